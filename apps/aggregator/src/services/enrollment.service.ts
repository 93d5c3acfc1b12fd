import { ConcordError } from '@concord/protocol';
import { createHash, randomBytes } from 'node:crypto';
import { computeEpsilon } from '@concord/dp';
import { parameterCount } from '@concord/native/spec';
import { nextRoundPhase } from '../federation/stages/budget.js';
import {
  DEFAULT_MAX_COLLUDERS,
  EnrollRequestSchema,
  NOISE_SIZING_RULE,
  PublicKeyError,
  parseEd25519PublicKey,
  parseX25519PublicKey,
  type EnrollResponse,
  type PrivacyTerms,
} from '@concord/protocol';
import { FederationSettingsSchema, type FederationSettings } from '../federation/settings.js';
import type { Db } from '../db/client.js';
import type { Federation } from '../db/schema/federations.js';
import type { Site } from '../db/schema/sites.js';
import type { EnrollmentTokenRepository } from '../repositories/enrollment-token.repository.js';
import type { FederationRepository } from '../repositories/federation.repository.js';
import type { KeyRepository } from '../repositories/key.repository.js';
import { siteNameKey, type NewSite, type SiteRepository, type TakenKeys } from '../repositories/site.repository.js';

/** What enrollment reads and writes: the token, the federation and the new site commit in one transaction. */
export interface EnrollmentDeps {
  db: Pick<Db, 'transaction'>;
  federations: Pick<FederationRepository, 'get'>;
  sites: Pick<SiteRepository, 'takenBy' | 'insertMany'>;
  tokens: Pick<EnrollmentTokenRepository, 'addToken' | 'addTokens' | 'lockByHashes' | 'markUsed'>;
}

type EnrollOutcome =
  | { site: Site }
  | { refused: 'unknown' | 'expired' | 'used' | 'duplicate-key' | 'duplicate-agreement-key' | 'duplicate-name' }
  | { refused: 'federation'; reason: string };

/** An enrollment request that passed the message and key checks: what the transaction needs of it. */
interface CheckedEnrollment {
  tokenHash: string;
  site: NewSite;
  cap: { epsilon: number; delta: number };
}

/** Most enrollments enrollMany takes at once (one transaction, a few statements of this many rows). */
export const MAX_ENROLL_BATCH = 500;

export type EnrollmentErrorCode =
  | 'E_BAD_MESSAGE'
  | 'E_BAD_TOKEN'
  | 'E_TOKEN_EXPIRED'
  | 'E_TOKEN_USED'
  | 'E_DUPLICATE_KEY'
  | 'E_DUPLICATE_NAME'
  | 'E_CAP_TOO_LOW'
  | PublicKeyError['code'];

/** An enrollment the aggregator refuses; `status` is the HTTP status to answer with. Never echoes the token. */
export class EnrollmentError extends ConcordError {
  constructor(
    override readonly code: EnrollmentErrorCode,
    message: string,
    readonly status: number,
  ) {
    super(code, message);
    this.name = 'EnrollmentError';
  }
}

/**
 * Keys in their one canonical encoding and valid as points (libs/protocol keys.ts), so the duplicate checks, which
 * compare the stored strings, compare the keys' bytes.
 */
function checkKeys(ed25519PublicKey: string, x25519PublicKey: string): void {
  try {
    parseEd25519PublicKey(ed25519PublicKey, 'ed25519PublicKey');
    parseX25519PublicKey(x25519PublicKey, 'x25519PublicKey');
  } catch (error) {
    if (error instanceof PublicKeyError) throw new EnrollmentError(error.code, error.message, 400);
    throw error;
  }
}

/**
 * The message and key checks of one enrollment request (before any token or database work).
 * @throws EnrollmentError E_BAD_MESSAGE, or the key's code (E_KEY_ENCODING, E_KEY_NONCANONICAL, ...), status 400.
 */
function checkEnrollment(body: unknown): CheckedEnrollment {
  const parsed = EnrollRequestSchema.safeParse(body);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(body)').join(', ');
    throw new EnrollmentError('E_BAD_MESSAGE', `invalid enrollment request (${fields})`, 400);
  }
  const { token, ed25519PublicKey, x25519PublicKey, cap, name } = parsed.data;
  checkKeys(ed25519PublicKey, x25519PublicKey);
  return {
    tokenHash: hashToken(token),
    cap,
    site: {
      identityPublicKey: ed25519PublicKey,
      keyAgreementPublicKey: x25519PublicKey,
      capEpsilon: cap.epsilon,
      capDelta: cap.delta,
      name,
    },
  };
}

/** Which of a site's keys or its name is taken already (in that order of precedence); undefined when none. */
function conflictOf(
  taken: TakenKeys,
  federationId: string,
  site: NewSite,
): 'duplicate-key' | 'duplicate-agreement-key' | 'duplicate-name' | undefined {
  if (taken.identityKeys.has(site.identityPublicKey)) return 'duplicate-key';
  if (taken.agreementKeys.has(site.keyAgreementPublicKey)) return 'duplicate-agreement-key';
  if (site.name !== undefined && taken.names.has(siteNameKey(federationId, site.name))) return 'duplicate-name';
  return undefined;
}

/** The coded error (and HTTP status) for a refused enrollment. */
function refusal(outcome: Exclude<EnrollOutcome, { site: Site }>): EnrollmentError {
  switch (outcome.refused) {
    case 'federation':
      return new EnrollmentError('E_CAP_TOO_LOW', outcome.reason, 422);
    case 'unknown':
      return new EnrollmentError('E_BAD_TOKEN', 'enrollment token is not valid', 401);
    case 'expired':
      return new EnrollmentError('E_TOKEN_EXPIRED', 'enrollment token has expired', 401);
    case 'used':
      return new EnrollmentError('E_TOKEN_USED', 'enrollment token was already used', 401);
    case 'duplicate-key':
      return new EnrollmentError('E_DUPLICATE_KEY', 'this identity key is already enrolled', 409);
    case 'duplicate-agreement-key':
      return new EnrollmentError('E_DUPLICATE_KEY', 'this key-agreement (X25519) key is already enrolled', 409);
    case 'duplicate-name':
      return new EnrollmentError('E_DUPLICATE_NAME', 'a site of this federation already has this name', 409);
  }
}

/**
 * Why a site with `cap` could never take part: one round of the federation (its plan for a full cohort, composed by
 * the accountant the federation pins) already costs more than the cap. Undefined when the cap covers a round.
 */
export function capTooLow(spec: unknown, cap: { epsilon: number; delta: number }): string | undefined {
  const epsilon = oneRoundEpsilon(spec, cap.delta);
  if (epsilon === undefined || epsilon <= cap.epsilon * (1 + 1e-9)) return undefined;
  return `cap epsilon ${cap.epsilon} cannot cover one round of this federation (one round costs epsilon ${epsilon.toFixed(4)} at delta ${cap.delta}); enroll with a larger --max-epsilon`;
}

/**
 * One round's epsilon at `delta` for a spec (undefined: not a federation's settings, or a round without DP).
 * Memoised by the spec's text: every site of a federation enrolls against the same spec, and the accountant takes
 * ~5 ms a call, which 1,000 simulated sites enrolling at once would pay 1,000 times on the server's one thread.
 */
function oneRoundEpsilon(spec: unknown, delta: number): number | undefined {
  const key = `${delta}|${JSON.stringify(spec)}`;
  if (roundEpsilons.has(key)) return roundEpsilons.get(key);
  const settings = FederationSettingsSchema.safeParse(spec);
  let epsilon: number | undefined;
  if (settings.success) {
    const s = settings.data;
    const phase = nextRoundPhase(s, s.cohort.maxSites, parameterCount(s.model));
    const accountant = ('accountant' in s.privacy ? s.privacy.accountant : undefined) ?? 'rdp';
    if (phase !== null) epsilon = computeEpsilon([phase], delta, { accountant }).epsilon;
  }
  if (roundEpsilons.size >= 64) roundEpsilons.clear(); // bounded: a few federations' specs
  roundEpsilons.set(key, epsilon);
  return epsilon;
}
const roundEpsilons = new Map<string, number | undefined>();

export const DEFAULT_TOKEN_TTL_MS = 24 * 3600_000;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** One-time enrollment tokens (only their SHA-256 is stored) and site registration. */
export class EnrollmentService {
  constructor(
    private readonly deps: EnrollmentDeps,
    private readonly keys: KeyRepository,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** A fresh token for `federationId` (32 random bytes, base64url), valid for `ttlMs`. Only its hash is kept. */
  async issueToken(federationId: string, ttlMs = DEFAULT_TOKEN_TTL_MS): Promise<{ token: string; expiresAt: Date }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(this.clock().getTime() + ttlMs);
    await this.deps.tokens.addToken(federationId, hashToken(token), expiresAt);
    return { token, expiresAt };
  }

  /** `count` fresh tokens for `federationId` at once (a simulation's sites), each as issueToken makes it. */
  async issueTokens(federationId: string, count: number, ttlMs = DEFAULT_TOKEN_TTL_MS): Promise<string[]> {
    const expiresAt = new Date(this.clock().getTime() + ttlMs);
    const tokens = Array.from({ length: count }, () => randomBytes(32).toString('base64url'));
    await this.deps.tokens.addTokens(
      federationId,
      tokens.map((token) => ({ tokenHash: hashToken(token), expiresAt })),
    );
    return tokens;
  }

  /** POST /api/enroll: one enrollment, exactly enrollMany's checks and answers for a batch of one. */
  async enroll(body: unknown): Promise<EnrollResponse> {
    const [outcome] = await this.enrollMany([body]);
    if (outcome instanceof EnrollmentError) throw outcome;
    return outcome;
  }

  /**
   * Enrolls many sites in one transaction (`concord simulate`'s virtual agents, in-process: no network route calls
   * it). Each body gets exactly what POST /api/enroll does to one (enroll is this for a batch of one): the same
   * message and key checks, the same token rules (each token spent once, by the first request holding it), the
   * same federation cap check and duplicate checks (against the enrolled sites and the batch's earlier requests),
   * and the same answer or EnrollmentError, in the order given. A request's refusal does not affect the others.
   * @throws RangeError for more than MAX_ENROLL_BATCH bodies.
   */
  async enrollMany(bodies: readonly unknown[]): Promise<(EnrollResponse | EnrollmentError)[]> {
    if (bodies.length > MAX_ENROLL_BATCH)
      throw new RangeError(`enrollMany: at most ${MAX_ENROLL_BATCH} enrollments at once, got ${bodies.length}`);
    const results: (EnrollResponse | EnrollmentError | undefined)[] = new Array(bodies.length);
    const checked: (CheckedEnrollment & { at: number })[] = [];
    bodies.forEach((body, at) => {
      try {
        checked.push({ at, ...checkEnrollment(body) });
      } catch (error) {
        if (!(error instanceof EnrollmentError)) throw error;
        results[at] = error;
      }
    });
    const outcomes = await this.enrollWithTokens(checked, this.clock());
    const specs = new Map<string, Awaited<ReturnType<EnrollmentService['siteSpec']>>>();
    for (const [k, outcome] of outcomes.entries()) {
      const { at } = checked[k];
      if ('refused' in outcome) {
        results[at] = refusal(outcome);
        continue;
      }
      const { federationId } = outcome.site;
      if (!specs.has(federationId)) specs.set(federationId, await this.siteSpec(federationId));
      results[at] = {
        siteId: outcome.site.id,
        federationId,
        serverPublicKey: this.keys.publicKey,
        ...specs.get(federationId),
      };
    }
    return results as (EnrollResponse | EnrollmentError)[];
  }

  /**
   * Spends each request's token and enrolls its site, all in one transaction (the token rows are locked, so two
   * concurrent uses cannot both succeed). Returns, per request in order, its site or why it was refused: the token
   * is unknown, spent (also by an earlier request of the batch) or expired; its federation refuses the cap
   * (capTooLow, checked before anything is written); or its keys or name are taken, by an enrolled site or by an
   * earlier request of the batch.
   */
  private enrollWithTokens(requests: readonly CheckedEnrollment[], now: Date): Promise<EnrollOutcome[]> {
    const { db, federations, sites, tokens } = this.deps;
    if (requests.length === 0) return Promise.resolve([]);
    return db.transaction(async (tx): Promise<EnrollOutcome[]> => {
      const locked = await tokens.lockByHashes(
        tx,
        requests.map((r) => r.tokenHash),
      );
      const outcomes: (EnrollOutcome | undefined)[] = new Array(requests.length);
      const candidates: { k: number; federationId: string; tokenId: string; site: NewSite }[] = [];
      for (const [k, request] of requests.entries()) {
        const token = locked.get(request.tokenHash);
        if (!token) outcomes[k] = { refused: 'unknown' };
        else if (token.usedAt) outcomes[k] = { refused: 'used' };
        else if (token.expiresAt.getTime() <= now.getTime()) outcomes[k] = { refused: 'expired' };
        else candidates.push({ k, federationId: token.federationId, tokenId: token.id, site: request.site });
      }
      // in request order, as if each ran alone after the ones before it: a token an earlier request spent is used;
      // keys and names are checked against the enrolled sites and the batch's requests accepted before this one
      const taken = await sites.takenBy(tx, candidates);
      const federationsById = new Map<string, Federation | undefined>();
      const spent = new Set<string>();
      const accepted: ((typeof candidates)[number] & { site: NewSite & { name: string } })[] = [];
      for (const candidate of candidates) {
        const { k, site, federationId, tokenId } = candidate;
        if (spent.has(tokenId)) {
          outcomes[k] = { refused: 'used' };
          continue;
        }
        if (!federationsById.has(federationId))
          federationsById.set(federationId, await federations.get(federationId, tx));
        const federation = federationsById.get(federationId);
        const reason = federation ? capTooLow(federation.spec, requests[k].cap) : undefined;
        if (reason !== undefined) {
          outcomes[k] = { refused: 'federation', reason };
          continue;
        }
        const conflict = conflictOf(taken, federationId, site);
        if (conflict) {
          outcomes[k] = { refused: conflict };
          continue;
        }
        const name = site.name ?? `site-${tokenId.slice(0, 8)}`;
        spent.add(tokenId);
        taken.identityKeys.add(site.identityPublicKey);
        taken.agreementKeys.add(site.keyAgreementPublicKey);
        taken.names.add(siteNameKey(federationId, name));
        accepted.push({ ...candidate, site: { ...site, name } });
      }
      const created = await sites.insertMany(tx, accepted);
      const marked = await tokens.markUsed(
        tx,
        accepted.map((a, i) => ({ tokenId: a.tokenId, siteId: created[i].id })),
        now,
      );
      if (marked !== accepted.length) throw new Error('enrollment token was spent concurrently');
      accepted.forEach((a, i) => (outcomes[a.k] = { site: created[i] }));
      return outcomes as EnrollOutcome[];
    });
  }

  /**
   * What a site needs of the federation's spec to prepare its data: the dataset schema it validates its records
   * against and the data-independent preprocessing, as a (minimal, valid) federation spec; and the privacy terms
   * it pins (mode, accountant, delta, clip norm, and in distributed mode the declared colluders c and the noise
   * sizing rule): its agent refuses any later plan whose terms differ (docs/threat-model.md).
   */
  private async siteSpec(
    federationId: string,
  ): Promise<{ spec?: EnrollResponse['spec']; terms?: EnrollResponse['terms'] }> {
    const settings = FederationSettingsSchema.safeParse((await this.deps.federations.get(federationId))?.spec);
    if (!settings.success) return {};
    const terms = privacyTermsOf(settings.data);
    if (!settings.data.dataset) return { terms };
    return { spec: { dataset: settings.data.dataset, preprocessing: settings.data.preprocess }, terms };
  }
}

/** The privacy terms of a federation's settings, in the form a site pins at enrollment. */
export function privacyTermsOf(settings: FederationSettings): PrivacyTerms {
  const p = settings.privacy;
  // the validation split a site pins: it never changes for the federation's life (docs/threat-model.md)
  const validation = settings.evaluation ? { validation: settings.evaluation.validation } : {};
  if (p.mode === 'none') return { mode: 'none', ...validation };
  if (p.mode === 'local')
    return { mode: 'local', accountant: p.accountant ?? 'rdp', delta: p.delta, clipNorm: p.clipNorm, ...validation };
  return {
    mode: 'distributed',
    accountant: 'rdp',
    delta: p.delta,
    clipNorm: p.clipNorm,
    maxColluders: settings.secaggMaxColluders ?? DEFAULT_MAX_COLLUDERS,
    noiseSizing: NOISE_SIZING_RULE,
    ...validation,
  };
}
