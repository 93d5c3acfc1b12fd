/**
 * Ed25519 (RFC 8032, pure) signatures over domain-separated canonical JSON: the signed bytes are
 * UTF-8(domain) || 0x00 || RFC 8785 canonical JSON of the value, so a signature made for one purpose (a plan, an
 * auth transcript) can never be replayed as another. Keys: raw 32-byte seeds / public keys, public keys and
 * signatures in padded standard base64 (the same formats as receipts).
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { decodeCanonicalBase64, parseEd25519PublicKey } from '../keys.js';
import { canonicalJsonBytes } from '../receipt.js';

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

export const SIGNING_DOMAINS = {
  plan: 'concord/plan/v1',
  serverAuth: 'concord/auth/server/v1',
  siteAuth: 'concord/auth/site/v1',
} as const;
export type SigningDomain = (typeof SIGNING_DOMAINS)[keyof typeof SIGNING_DOMAINS];

export function signedBytes(domain: SigningDomain, value: unknown): Uint8Array {
  const body = canonicalJsonBytes(value);
  const tag = new TextEncoder().encode(domain);
  const out = new Uint8Array(tag.length + 1 + body.length);
  out.set(tag, 0);
  out.set(body, tag.length + 1);
  return out;
}

function privateKey(seed: Uint8Array): KeyObject {
  if (!(seed instanceof Uint8Array)) throw new TypeError('seed: expected a Uint8Array');
  if (seed.length !== 32) throw new RangeError(`seed: expected 32 bytes, got ${seed.length}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
}

/**
 * Base64 Ed25519 signature of `value` under `domain`, with a 32-byte seed or the private KeyObject made from it
 * (a signer that signs often keeps the KeyObject: importing the key costs more than the signature).
 */
export function signValue(domain: SigningDomain, value: unknown, seed: Uint8Array | KeyObject): string {
  const key = seed instanceof Uint8Array ? privateKey(seed) : seed;
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519')
    throw new TypeError('seed: expected a 32-byte seed or an Ed25519 private KeyObject');
  return sign(null, signedBytes(domain, value), key).toString('base64');
}

/**
 * Public KeyObjects of keys that passed parseEd25519PublicKey, by their base64: an aggregator verifies the same
 * few thousand sites' keys over and over, and importing a key costs more than checking a signature. Bounded.
 */
const publicKeyObjects = new Map<string, KeyObject>();
const PUBLIC_KEY_CACHE_SIZE = 4096;

function publicKeyObject(publicKey: string): KeyObject {
  let key = publicKeyObjects.get(publicKey);
  if (!key) {
    const pub = parseEd25519PublicKey(publicKey, 'publicKey');
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, pub]), format: 'der', type: 'spki' });
    if (publicKeyObjects.size >= PUBLIC_KEY_CACHE_SIZE) publicKeyObjects.clear();
    publicKeyObjects.set(publicKey, key);
  }
  return key;
}

/**
 * True iff `signature` (base64, 64 bytes) signs `value` under `domain` for `publicKey` (base64, 32 bytes). False,
 * never a throw, for a non-canonical encoding or a key refused by parseEd25519PublicKey (small order, off-curve).
 */
export function verifyValue(domain: SigningDomain, value: unknown, signature: unknown, publicKey: unknown): boolean {
  try {
    if (typeof signature !== 'string' || typeof publicKey !== 'string') return false;
    // one canonical encoding, and never a small-order key (with the identity point a trivial signature verifies all)
    const sig = decodeCanonicalBase64(signature, 64, 'signature');
    // only keys parseEd25519PublicKey accepts are cached, so a cached key passed the same checks
    return verify(null, signedBytes(domain, value), publicKeyObject(publicKey), sig);
  } catch {
    return false;
  }
}

/** The raw public key (base64) of a 32-byte Ed25519 seed. */
export function ed25519PublicKeyBase64(seed: Uint8Array): string {
  const spki = createPublicKey(privateKey(seed)).export({ format: 'der', type: 'spki' });
  return spki.subarray(SPKI_ED25519.length).toString('base64');
}

/** A fresh random nonce, base64 (16 bytes from the OS CSPRNG). */
export function freshNonce(): string {
  return randomBytes(16).toString('base64');
}
