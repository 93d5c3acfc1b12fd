/**
 * X25519 (RFC 7748) key agreement and Ed25519 (RFC 8032) signatures.
 *
 * The byte formats are tweetnacl's (32-byte X25519 secret/public keys, nacl.sign's 32-byte seed / 64-byte
 * seed||public secret key, 64-byte detached signatures): that is the contract with agents. The operations run on
 * node:crypto (OpenSSL), about 15x faster than tweetnacl for X25519; test/keys.test.ts checks both give the same
 * bytes (RFC vectors and random keys).
 */
import { KeyObject, createPrivateKey, createPublicKey, diffieHellman, sign, verify } from 'node:crypto';
import { checkX25519PublicKeyBytes, PublicKeyError } from '@concord/protocol';
import nacl from 'tweetnacl';
import { SecAggError } from './errors.js';
import { requireBytes } from './guards.js';

// DER prefixes of PKCS#8 / SPKI structures for the raw 32-byte keys (RFC 8410 §7 and §4).
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');

function x25519Private(secretKey: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([X25519_PKCS8, secretKey]), format: 'der', type: 'pkcs8' });
}
function x25519Public(publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([X25519_SPKI, publicKey]), format: 'der', type: 'spki' });
}

/**
 * An X25519 secret key held as an OpenSSL KeyObject (parsing a key costs ~0.5 ms, agreement ~40 us: keep one object
 * per secret). The raw bytes stay with the caller, who wipes them; OpenSSL's copy is freed with the object.
 */
export class X25519Secret {
  readonly publicKey: Uint8Array;
  private readonly key: KeyObject;

  constructor(secretKey: Uint8Array) {
    requireBytes(secretKey, 'secretKey', 32);
    this.key = x25519Private(secretKey);
    const spki = createPublicKey(this.key).export({ format: 'der', type: 'spki' });
    this.publicKey = new Uint8Array(spki.subarray(spki.length - 32));
  }

  /**
   * X25519 shared secret with `peerPublicKey`, same bytes as `nacl.scalarMult(secretKey, peerPublicKey)`.
   * @throws SecAggError E_BAD_MESSAGE when the peer key is a low-order point (the result would be all zeros;
   *   OpenSSL refuses it, and so do we, so a peer cannot force a known mask seed).
   */
  agree(peerPublicKey: Uint8Array): Uint8Array {
    requireBytes(peerPublicKey, 'peerPublicKey', 32);
    try {
      return new Uint8Array(diffieHellman({ privateKey: this.key, publicKey: x25519PublicObject(peerPublicKey) }));
    } catch {
      throw new SecAggError('E_BAD_MESSAGE', 'X25519 agreement failed (low-order or invalid public key)');
    }
  }
}

const publicObjects = new Map<string, KeyObject>();
function x25519PublicObject(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey).toString('hex');
  let key = publicObjects.get(id);
  if (!key) {
    key = x25519Public(publicKey);
    if (publicObjects.size > 8192) publicObjects.clear();
    publicObjects.set(id, key);
  }
  return key;
}

/** X25519 public key of a 32-byte secret (clamped per RFC 7748 §5), same bytes as `nacl.scalarMult.base`. */
export function x25519PublicKey(secretKey: Uint8Array): Uint8Array {
  return new X25519Secret(secretKey).publicKey;
}

/** One-shot X25519 agreement (see X25519Secret.agree). */
export function x25519SharedSecret(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  return new X25519Secret(secretKey).agree(peerPublicKey);
}

/** The reference path (tweetnacl), kept for the byte-for-byte cross-check. */
export function x25519SharedSecretNacl(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  return nacl.scalarMult(requireBytes(secretKey, 'secretKey', 32), requireBytes(peerPublicKey, 'peerPublicKey', 32));
}

/** An Ed25519 identity. Accepts a 32-byte seed or tweetnacl's 64-byte secret key (seed || public key). */
export class Ed25519Signer {
  readonly publicKey: Uint8Array;
  private readonly key: KeyObject;

  constructor(secretKey: Uint8Array) {
    if (!(secretKey instanceof Uint8Array)) throw new TypeError('secretKey must be a Uint8Array');
    if (secretKey.length !== 32 && secretKey.length !== 64) {
      throw new RangeError(`secretKey must be a 32-byte seed or a 64-byte nacl secret key, got ${secretKey.length}`);
    }
    const seed = secretKey.subarray(0, 32);
    this.key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(this.key).export({ format: 'der', type: 'spki' });
    this.publicKey = new Uint8Array(spki.subarray(spki.length - 32));
    if (secretKey.length === 64 && !Buffer.from(secretKey.subarray(32)).equals(Buffer.from(this.publicKey))) {
      throw new RangeError('secretKey: the public half of the 64-byte nacl key does not match its seed');
    }
  }

  /** Detached signature, same bytes as `nacl.sign.detached` (Ed25519 is deterministic, RFC 8032 §5.1.6). */
  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.key));
  }
}

const verifyKeys = new Map<string, KeyObject>();

/** Ed25519 verification (RFC 8032 §5.1.7) on node:crypto; KeyObjects are cached per public key. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  requireBytes(publicKey, 'publicKey', 32);
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  const id = Buffer.from(publicKey).toString('hex');
  let key = verifyKeys.get(id);
  if (!key) {
    try {
      key = createPublicKey({ key: Buffer.concat([ED25519_SPKI, publicKey]), format: 'der', type: 'spki' });
    } catch {
      return false;
    }
    if (verifyKeys.size > 4096) verifyKeys.clear();
    verifyKeys.set(id, key);
  }
  return verify(null, message, key, signature);
}

/**
 * A peer's advertised X25519 key, checked as keys are at enrollment (@concord/protocol keys.ts): canonical u and
 * not of low order (a low-order key fixes the pair secret to a handful of values, RFC 7748 section 6.1).
 * @throws SecAggError with the PublicKeyError's code (E_KEY_NONCANONICAL, E_KEY_LOW_ORDER, E_KEY_ENCODING).
 */
export function checkPeerKey(key: Uint8Array, owner: string): void {
  try {
    checkX25519PublicKeyBytes(key, `advertised key of ${owner}`);
  } catch (error) {
    if (error instanceof PublicKeyError) throw new SecAggError(error.code, error.message);
    throw error;
  }
}
