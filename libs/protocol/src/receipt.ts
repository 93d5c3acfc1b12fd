/**
 * Privacy receipts: what a site signs for each round it trains in, and what the aggregator's ledger charges.
 *
 * Encoding: the receipt object is validated with {@link privacyReceiptSchema}, then serialized with the JSON
 * Canonicalization Scheme (RFC 8785, via the `canonicalize` package) and UTF-8 encoded. Those bytes are what is hashed
 * (SHA-256, FIPS 180-4) and signed (Ed25519, RFC 8032 section 5.1, pure variant, no prehash).
 *
 * Formats (chosen once, used everywhere):
 * - hashes: lowercase hex, 64 characters (32 bytes);
 * - Ed25519 public keys: the raw 32-byte key (RFC 8032 section 5.1.5), standard base64 with padding (RFC 4648 section 4);
 * - Ed25519 private keys: the raw 32-byte seed (RFC 8032 section 5.1.5), as bytes, never serialized here;
 * - signatures: the raw 64-byte signature, standard base64 with padding.
 *
 * Chaining: a site's receipts carry its own `sequence` (1 for its first receipt in a federation, then +1 each time)
 * and `previousReceiptHash`, the hash of its previous receipt (null for the first), so a site can detect a dropped or
 * replayed receipt and an auditor can check the site's history without the aggregator's chain.
 */
import { ConcordError } from './concord-error.js';
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import { z } from 'zod';
import { parseEd25519PublicKey } from './keys.js';

export const RECEIPT_VERSION = 1 as const;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 (64 characters)');
const probability = z.number().gt(0).lt(1);

/** (epsilon, delta) the site declared as its lifetime cap; epsilon in nats (natural-log DP), delta a probability. */
export const privacyCapSchema = z.object({ epsilon: z.number().gt(0), delta: probability }).strict();

/**
 * Parameters of the distributed discrete Gaussian mechanism (Kairouz, Liu, Steinke 2021, "The Distributed Discrete
 * Gaussian Mechanism for Federated Learning with Secure Aggregation", ICML, Algorithm 1 and 2): the update is clipped
 * in L2 to `clipNorm`, rotated, scaled by `granularity` (gamma^-1: integer units per unit of update), rounded with
 * conditional randomized rounding of bias `roundingBeta`, and each site adds discrete Gaussian noise of variance
 * `localNoiseVariance` (in integer units). The sum is taken modulo 2^`modulusBits` under SecAgg+. `minNoisyClients`
 * is the number of sites whose noise is guaranteed to be in the sum (the conservative count after dropouts).
 */
export const distributedParametersSchema = z
  .object({
    granularity: z.number().gt(0),
    roundingBeta: z.number().min(0).lt(1),
    dimension: z.number().int().min(1),
    modulusBits: z.number().int().min(2).max(64),
    localNoiseVariance: z.number().gt(0),
    minNoisyClients: z.number().int().min(1),
    cohortSize: z.number().int().min(1),
  })
  .strict()
  .refine((p) => p.minNoisyClients <= p.cohortSize, {
    message: 'minNoisyClients must not exceed cohortSize',
    path: ['minNoisyClients'],
  });

/**
 * One round's privacy charge for one site. DP-SGD (Abadi et al. 2016, "Deep Learning with Differential Privacy",
 * section 3.1) with Poisson sampling at rate `sampleRate` (fraction of the site's records per step), `steps` noisy
 * steps, per-example clipping to L2 norm `clipNorm` (in update units), Gaussian noise of standard deviation
 * `noiseMultiplier * clipNorm` on each step's gradient sum; `delta` is the delta the charge is accounted at.
 * In mode `distributed`, `noiseMultiplier` is the multiplier the released sum carries assuming
 * `distributed.minNoisyClients` sites' noise, and `distributed` is required; in mode `local` it must be absent.
 */
export const privacyReceiptSchema = z
  .object({
    version: z.literal(RECEIPT_VERSION),
    federationId: z.string().min(1).max(128),
    siteId: z.string().min(1).max(128),
    roundId: z.string().min(1).max(128),
    sequence: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    previousReceiptHash: hex64.nullable(),
    mode: z.enum(['local', 'distributed']),
    sampleRate: z.number().gt(0).max(1),
    noiseMultiplier: z.number().gt(0),
    steps: z.number().int().min(1),
    clipNorm: z.number().gt(0),
    delta: probability,
    /**
     * The accountant that composes this charge with the site's history (the one the site pinned at enrollment); the
     * ledger audit and /budgets recompute with it. Absent in receipts signed before it existed: 'rdp'.
     */
    accountant: z.enum(['rdp', 'prv']).optional(),
    distributed: distributedParametersSchema.optional(),
    /**
     * 'evaluation': the charge of an evaluation round (the Gaussian mechanism on the site's validation split, one
     * step at rate 1, `clipNorm` = the evaluation vector's sensitivity). Absent: a training round. A site's history
     * is accounted as the larger of its training part and its evaluation part (libs/dp accountant.ts).
     */
    use: z.literal('evaluation').optional(),
    cap: privacyCapSchema,
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.mode === 'distributed' && r.distributed === undefined) {
      ctx.addIssue({ code: 'custom', path: ['distributed'], message: 'required when mode is distributed' });
    }
    if (r.mode === 'local' && r.distributed !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['distributed'], message: 'must be absent when mode is local' });
    }
    if ((r.sequence === 1) !== (r.previousReceiptHash === null)) {
      ctx.addIssue({
        code: 'custom',
        path: ['previousReceiptHash'],
        message: 'must be null exactly when sequence is 1',
      });
    }
  });

export type PrivacyCap = z.infer<typeof privacyCapSchema>;
export type DistributedParameters = z.infer<typeof distributedParametersSchema>;
export type PrivacyReceipt = z.infer<typeof privacyReceiptSchema>;

/** A receipt that fails the schema. `issues` name the offending fields; no key material is ever included. */
export class ReceiptError extends ConcordError {
  override readonly code = 'E_RECEIPT_INVALID';
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
  ) {
    super('E_RECEIPT_INVALID', message);
    this.name = 'ReceiptError';
  }
}

/** Validates `value` as a receipt. Throws ReceiptError (code E_RECEIPT_INVALID) listing every bad field. */
export function parsePrivacyReceipt(value: unknown): PrivacyReceipt {
  const result = privacyReceiptSchema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ReceiptError(`receipt: invalid privacy receipt (${issues.join('; ')})`, issues);
  }
  return result.data;
}

/** RFC 8785 canonical UTF-8 bytes of a valid receipt. Throws ReceiptError if `receipt` is not one. */
export function canonicalReceiptBytes(receipt: PrivacyReceipt): Uint8Array {
  return canonicalJsonBytes(parsePrivacyReceipt(receipt));
}

/** SHA-256 of the receipt's canonical bytes, lowercase hex. */
export function receiptHash(receipt: PrivacyReceipt): string {
  return sha256Hex(canonicalReceiptBytes(receipt));
}

/** RFC 8785 canonical UTF-8 bytes of any JSON value (no undefined, functions, NaN or Infinity inside). */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value: cannot be canonicalized as JSON');
  return new TextEncoder().encode(text);
}

/** SHA-256 of `bytes`, lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes: expected a Uint8Array');
  return createHash('sha256').update(bytes).digest('hex');
}

// DER prefixes that wrap a raw Ed25519 key (RFC 8410 section 4 and 7) so node:crypto can import it.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (!(seed instanceof Uint8Array)) throw new TypeError('privateKeySeed: expected a Uint8Array');
  if (seed.length !== 32) throw new RangeError(`privateKeySeed: expected 32 bytes, got ${seed.length}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function decodeBase64(value: unknown, name: string, length: number): Buffer {
  if (typeof value !== 'string') throw new TypeError(`${name}: expected a base64 string`);
  const bytes = BASE64.test(value) ? Buffer.from(value, 'base64') : Buffer.alloc(0);
  if (bytes.length !== length || bytes.toString('base64') !== value) {
    throw new RangeError(`${name}: expected ${length} bytes in padded standard base64`);
  }
  return bytes;
}

/** The raw Ed25519 public key (base64) for a 32-byte private seed. */
export function ed25519PublicKeyFromSeed(privateKeySeed: Uint8Array): string {
  const spki = createPublicKey(privateKeyFromSeed(privateKeySeed)).export({ format: 'der', type: 'spki' });
  return spki.subarray(SPKI_ED25519_PREFIX.length).toString('base64');
}

/** Ed25519 signature (base64, 64 bytes) over the receipt's canonical bytes, with the site's 32-byte private seed. */
export function signReceipt(receipt: PrivacyReceipt, privateKeySeed: Uint8Array): string {
  const key = privateKeyFromSeed(privateKeySeed);
  return sign(null, canonicalReceiptBytes(receipt), key).toString('base64');
}

/**
 * True when `signature` is the Ed25519 signature of the receipt's canonical bytes under `publicKey` (raw 32 bytes,
 * base64). False for a wrong signature or a receipt that fails the schema; throws only for malformed key or
 * signature encodings and refused keys (TypeError / RangeError, a PublicKeyError for the key, naming the parameter).
 */
export function verifyReceiptSignature(receipt: unknown, signature: string, publicKey: string): boolean {
  return verifyReceiptWithProof(receipt, signature, publicKey) !== undefined;
}

/**
 * Proof that one receipt signature verified: opaque; only verifyReceiptWithProof makes one, and what it saw stays
 * in this module (a WeakMap), so a caller can neither forge a proof nor change what it proves.
 */
export type ReceiptProof = Readonly<{ readonly kind: 'verified-receipt' }>;
const proofs = new WeakMap<ReceiptProof, { canonical: string; signature: string; publicKey: string }>();

/**
 * verifyReceiptSignature, returning a proof of the success (undefined when the signature does not verify) that
 * `isProvenReceipt` checks later without a second Ed25519 verification. Throws as verifyReceiptSignature does.
 */
export function verifyReceiptWithProof(
  receipt: unknown,
  signature: string,
  publicKey: string,
): ReceiptProof | undefined {
  const signatureBytes = decodeBase64(signature, 'signature', 64);
  const publicKeyBytes = Buffer.from(parseEd25519PublicKey(publicKey, 'publicKey')); // canonical, not small order
  const parsed = privacyReceiptSchema.safeParse(receipt);
  if (!parsed.success) return undefined;
  const bytes = canonicalJsonBytes(parsed.data);
  if (!verify(null, bytes, publicKeyObject(publicKey, publicKeyBytes), signatureBytes)) return undefined;
  const proof: ReceiptProof = Object.freeze({ kind: 'verified-receipt' as const });
  proofs.set(proof, { canonical: Buffer.from(bytes).toString('latin1'), signature, publicKey });
  return proof;
}

/**
 * True when `proof` (from verifyReceiptWithProof) proves that `signature` verified over exactly this receipt's
 * canonical bytes under exactly `publicKey`. Ed25519 verification is a deterministic function of (key, bytes,
 * signature), so verifying again would give the same answer: this replaces it at the cost of one canonicalization.
 * False (verify instead) for anything else: no proof, another key, another signature or another receipt.
 */
export function isProvenReceipt(proof: unknown, receipt: unknown, signature: string, publicKey: string): boolean {
  const seen = typeof proof === 'object' && proof !== null ? proofs.get(proof as ReceiptProof) : undefined;
  if (!seen || seen.signature !== signature || seen.publicKey !== publicKey) return false;
  try {
    // the verified bytes were the parsed receipt's; an unparsed object with any other field differs here
    return Buffer.from(canonicalJsonBytes(receipt)).toString('latin1') === seen.canonical;
  } catch {
    return false;
  }
}

// Importing a key costs about as much as one verification; a ledger verifies many receipts per site.
// Public keys only (nothing secret is cached), bounded so a stream of distinct keys cannot grow it without end.
const publicKeyCache = new Map<string, KeyObject>();
const PUBLIC_KEY_CACHE_SIZE = 4096;

function publicKeyObject(encoded: string, raw: Buffer): KeyObject {
  let key = publicKeyCache.get(encoded);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_SIZE) publicKeyCache.clear();
    publicKeyCache.set(encoded, key);
  }
  return key;
}
