import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ed25519PublicKeyBase64, PrivacyTermsSchema, type FederationSpec, type PrivacyTerms } from '@concord/protocol';
import { z } from 'zod';

/** Where a site keeps its keys, enrollment and local ledger (flag --state-dir, env CONCORD_AGENT_STATE_DIR). */
export const DEFAULT_STATE_DIR = './.concord-agent';
export const STATE_FILE = 'site.json';

/** A problem with the site's state directory or key file; the message never contains key material. */
export class SiteStateError extends Error {
  constructor(
    readonly code:
      | 'E_NOT_ENROLLED'
      | 'E_ALREADY_ENROLLED'
      | 'E_KEY_PERMISSIONS'
      | 'E_STATE_CORRUPT'
      | 'E_CAP_RAISE'
      | 'E_TERMS_NOT_PINNED'
      | 'E_TERMS_ACCOUNTANT',
    message: string,
  ) {
    super(message);
    this.name = 'SiteStateError';
  }
}

const base64Key = z.string().refine((s) => Buffer.from(s, 'base64').length === 32, 'expected 32 bytes in base64');
const capSchema = z.object({ epsilon: z.number().finite().gt(0), delta: z.number().gt(0).lt(1) }).strict();

const siteStateSchema = z
  .object({
    version: z.literal(1),
    server: z.string().url(),
    siteId: z.string().min(1),
    federationId: z.string().min(1),
    /** the aggregator's Ed25519 public key, pinned at enrollment */
    serverPublicKey: base64Key,
    /** Ed25519 identity: raw 32-byte seed (private) and public key, base64 */
    identity: z.object({ seed: base64Key, publicKey: base64Key }).strict(),
    /** X25519 key-agreement key pair, base64 raw */
    agreement: z.object({ privateKey: base64Key, publicKey: base64Key }).strict(),
    cap: capSchema,
    /** the federation's spec as the aggregator returned it at enrollment (dataset schema, preprocessing) */
    spec: z.unknown().optional(),
    /**
     * the federation's privacy terms, pinned at enrollment beside serverPublicKey; absent in enrollments made before
     * terms were pinned, which `run` refuses (E_TERMS_NOT_PINNED: enroll again)
     */
    terms: PrivacyTermsSchema.optional(),
    enrolledAt: z.string(),
  })
  .strict();

export type SiteState = z.infer<typeof siteStateSchema> & { spec?: FederationSpec };
export type SiteCap = z.infer<typeof capSchema>;

export interface SiteKeys {
  identity: { seed: string; publicKey: string };
  agreement: { privateKey: string; publicKey: string };
}

/** Fresh site keys, generated here with the OS CSPRNG; they are written only to the 0600 state file. */
export function generateSiteKeys(): SiteKeys {
  const seed = randomBytes(32);
  const agreement = generateKeyPairSync('x25519');
  const rawPrivate = Buffer.from(agreement.privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const rawPublic = Buffer.from(agreement.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return {
    identity: { seed: seed.toString('base64'), publicKey: ed25519PublicKeyBase64(seed) },
    agreement: { privateKey: rawPrivate.toString('base64'), publicKey: rawPublic.toString('base64') },
  };
}

export function stateFilePath(stateDir: string): string {
  return join(stateDir, STATE_FILE);
}

/**
 * Reads the site's state and refuses a key file that others can read (the Ed25519 seed is in it), as ssh does.
 * Throws SiteStateError with a code; the message names the file, never its content.
 */
export function loadSiteState(stateDir: string): SiteState {
  const file = stateFilePath(stateDir);
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    throw new SiteStateError('E_NOT_ENROLLED', `no enrollment in ${stateDir}: run 'concord-agent enroll' first`);
  }
  if ((mode & 0o077) !== 0) {
    throw new SiteStateError(
      'E_KEY_PERMISSIONS',
      `${file} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 it`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new SiteStateError('E_STATE_CORRUPT', `${file} is not valid JSON`);
  }
  const parsed = siteStateSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SiteStateError('E_STATE_CORRUPT', `${file}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data as SiteState;
}

/**
 * Writes the state atomically (temp file, fsync, rename) with mode 0600 in a 0700 directory, so a crash leaves either
 * the old or the new file, never a torn one.
 */
export function saveSiteState(stateDir: string, state: SiteState): void {
  siteStateSchema.parse(state);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  chmodSync(stateDir, 0o700);
  const file = stateFilePath(stateDir);
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

/**
 * The privacy terms the site pinned at enrollment, and the accountant `run` composes with: `--accountant` may only
 * repeat the pinned one (E_TERMS_ACCOUNTANT). An enrollment from before terms were pinned is refused with
 * E_TERMS_NOT_PINNED: its agent has nothing to check plans against, and taking terms from the first plan would
 * trust the very party the pin guards against; the site enrolls again (a fresh token, a new --state-dir).
 */
export function pinnedTerms(
  state: SiteState,
  accountantFlag: string | undefined,
): { terms: PrivacyTerms; accountant: 'rdp' | 'prv' } {
  if (!state.terms) {
    throw new SiteStateError(
      'E_TERMS_NOT_PINNED',
      'this enrollment predates pinned privacy terms: ask the operator for a new token and enroll again with another --state-dir',
    );
  }
  const pinned = state.terms.mode === 'none' ? 'rdp' : state.terms.accountant;
  if (accountantFlag !== undefined && accountantFlag !== pinned) {
    throw new SiteStateError(
      'E_TERMS_ACCOUNTANT',
      `--accountant ${accountantFlag} differs from the accountant pinned at enrollment (${pinned})`,
    );
  }
  return { terms: state.terms, accountant: pinned };
}

/** The cap in force: a site may lower its cap at any time, never raise it (E_CAP_RAISE). */
export function lowerCap(current: SiteCap, requested: Partial<SiteCap>): SiteCap {
  const next = { epsilon: requested.epsilon ?? current.epsilon, delta: requested.delta ?? current.delta };
  if (next.epsilon > current.epsilon || next.delta > current.delta) {
    throw new SiteStateError(
      'E_CAP_RAISE',
      `the privacy cap can only be lowered (enrolled with epsilon ${current.epsilon}, delta ${current.delta})`,
    );
  }
  return next;
}
