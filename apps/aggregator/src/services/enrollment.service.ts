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
import type { NewSite, SiteRepository } from '../repositories/site.repository.js';

/** What enrollment reads and writes: the token, the federation and the new site commit in one transaction. */
export interface EnrollmentDeps {
  db: Pick<Db, 'transaction'>;
  federations: Pick<FederationRepository, 'get'>;
  sites: Pick<SiteRepository, 'conflictOf' | 'insert'>;
  tokens: Pick<EnrollmentTokenRepository, 'addToken' | 'addTokens' | 'lockByHash' | 'markUsed'>;
}

type EnrollOutcome =
  | { site: Site }
  | { refused: 'unknown' | 'expired' | 'used' | 'duplicate-key' | 'duplicate-agreement-key' | 'duplicate-name' }
  | { refused: 'federation'; reason: string };

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

  async enroll(body: unknown): Promise<EnrollResponse> {
    const parsed = EnrollRequestSchema.safeParse(body);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => i.path.join('.') || '(body)').join(', ');
      throw new EnrollmentError('E_BAD_MESSAGE', `invalid enrollment request (${fields})`, 400);
    }
    const { token, ed25519PublicKey, x25519PublicKey, cap, name } = parsed.data;
    checkKeys(ed25519PublicKey, x25519PublicKey);
    const outcome = await this.enrollWithToken(
      hashToken(token),
      this.clock(),
      {
        identityPublicKey: ed25519PublicKey,
        keyAgreementPublicKey: x25519PublicKey,
        capEpsilon: cap.epsilon,
        capDelta: cap.delta,
        name,
      },
      (federation) => capTooLow(federation.spec, cap),
    );
    if ('refused' in outcome) {
      switch (outcome.refused) {
        case 'federation':
          throw new EnrollmentError('E_CAP_TOO_LOW', outcome.reason, 422);
        case 'unknown':
          throw new EnrollmentError('E_BAD_TOKEN', 'enrollment token is not valid', 401);
        case 'expired':
          throw new EnrollmentError('E_TOKEN_EXPIRED', 'enrollment token has expired', 401);
        case 'used':
          throw new EnrollmentError('E_TOKEN_USED', 'enrollment token was already used', 401);
        case 'duplicate-key':
          throw new EnrollmentError('E_DUPLICATE_KEY', 'this identity key is already enrolled', 409);
        case 'duplicate-agreement-key':
          throw new EnrollmentError('E_DUPLICATE_KEY', 'this key-agreement (X25519) key is already enrolled', 409);
        case 'duplicate-name':
          throw new EnrollmentError('E_DUPLICATE_NAME', 'a site of this federation already has this name', 409);
      }
    }
    return {
      siteId: outcome.site.id,
      federationId: outcome.site.federationId,
      serverPublicKey: this.keys.publicKey,
      ...(await this.siteSpec(outcome.site.federationId)),
    };
  }

  /**
   * Spends the token with this hash and enrolls the site, in one transaction (the token row is locked, so two
   * concurrent uses cannot both succeed). Returns a reason instead of a site when the token cannot be used;
   * `refuse` (why this site's federation refuses it, checked before anything is written) undefined: accepted.
   */
  private enrollWithToken(
    tokenHash: string,
    now: Date,
    site: NewSite,
    refuse: (federation: Federation) => string | undefined,
  ): Promise<EnrollOutcome> {
    const { db, federations, sites, tokens } = this.deps;
    return db.transaction(async (tx): Promise<EnrollOutcome> => {
      const token = await tokens.lockByHash(tx, tokenHash);
      if (!token) return { refused: 'unknown' };
      if (token.usedAt) return { refused: 'used' };
      if (token.expiresAt.getTime() <= now.getTime()) return { refused: 'expired' };
      const federation = await federations.get(token.federationId, tx);
      const reason = federation ? refuse(federation) : undefined;
      if (reason !== undefined) return { refused: 'federation', reason };
      const conflict = await sites.conflictOf(tx, token.federationId, site);
      if (conflict) return { refused: conflict };
      const created = await sites.insert(tx, token.federationId, {
        ...site,
        name: site.name ?? `site-${token.id.slice(0, 8)}`,
      });
      if (!(await tokens.markUsed(tx, token.id, created.id, now)))
        throw new Error('enrollment token was spent concurrently');
      return { site: created };
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
