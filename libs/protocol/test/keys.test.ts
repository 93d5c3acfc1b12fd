import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PublicKeyError,
  decodeCanonicalBase64,
  checkX25519PublicKeyBytes,
  ed25519KeyProblem,
  parseEd25519PublicKey,
  parseX25519PublicKey,
  x25519KeyProblem,
} from '../src/keys.js';
import { SIGNING_DOMAINS, signedBytes, verifyValue } from '../src/events/signing.js';

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const rawPublic = (type: 'ed25519' | 'x25519') =>
  generateKeyPairSync(type as 'ed25519')
    .publicKey.export({ format: 'der', type: 'spki' })
    .subarray(12);

// RFC 8032 section 7.1, TEST 1; RFC 7748 section 6.1, Alice's public key
const RFC8032_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC7748_ALICE = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';

// The y coordinates of Ed25519's 8 torsion points (libsodium ed25519_ref10 blacklist): 1 (identity), p-1 (order 2),
// 0 (order 4, both signs of x), y8 and p-y8 (order 8, both signs each).
const Y8 = '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05';
const MINUS_Y8 = 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a';
const withSign = (hex: string) => {
  const bytes = Buffer.from(hex, 'hex');
  bytes[31] |= 0x80;
  return bytes.toString('hex');
};
const P_MINUS_1 = 'ec' + 'ff'.repeat(30) + '7f';
const IDENTITY = '01' + '00'.repeat(31);
const ZERO = '00'.repeat(32);
const SMALL_ORDER_POINTS = [IDENTITY, P_MINUS_1, ZERO, withSign(ZERO), Y8, withSign(Y8), MINUS_Y8, withSign(MINUS_Y8)];

describe('canonical base64 keys (RFC 4648 section 4)', () => {
  const key = rawPublic('ed25519').toString('base64');

  it('accepts the padded standard encoding and returns the raw bytes', () => {
    expect(Buffer.from(decodeCanonicalBase64(key, 32, 'k')).toString('base64')).toBe(key);
  });

  it.each([
    ['unpadded', key.replace(/=+$/, '')],
    ['trailing newline', `${key}\n`],
    ['leading space', ` ${key}`],
    ['an inserted !', `${key.slice(0, 10)}!${key.slice(10)}`],
    ['url-safe alphabet', key.replace(/\+/g, '-').replace(/\//g, '_').replace(/^./, '-')],
    ['non-zero trailing bits', `${key.slice(0, 42)}${key[42] === 'A' ? 'B' : key[42] === 'B' ? 'C' : 'B'}=`],
    ['too short', key.slice(0, 40)],
    ['empty', ''],
  ])('refuses %s with E_KEY_ENCODING', (_, value) => {
    expect(ed25519KeyProblem(value)).toBe('E_KEY_ENCODING');
    expect(x25519KeyProblem(value)).toBe('E_KEY_ENCODING');
  });

  it('guards its argument types', () => {
    expect(() => decodeCanonicalBase64(42, 32, 'k')).toThrow(TypeError);
    expect(() => parseEd25519PublicKey(null)).toThrow(TypeError);
  });
});

describe('Ed25519 public keys as points', () => {
  it('accepts the RFC 8032 test key and fresh keys (property)', () => {
    expect(ed25519KeyProblem(b64(RFC8032_PUBLIC))).toBeUndefined();
    fc.assert(
      fc.property(fc.integer(), () => ed25519KeyProblem(rawPublic('ed25519').toString('base64')) === undefined),
      { numRuns: 50 },
    );
  });

  it('refuses all 8 small-order points (the identity and all zeros among them)', () => {
    for (const hex of SMALL_ORDER_POINTS) expect(ed25519KeyProblem(b64(hex)), hex).toBe('E_KEY_SMALL_ORDER');
  });

  it('refuses non-canonical encodings: y >= p, and x = 0 with the sign bit', () => {
    expect(ed25519KeyProblem(b64('ed' + 'ff'.repeat(30) + '7f'))).toBe('E_KEY_NONCANONICAL'); // y = p (= 0)
    expect(ed25519KeyProblem(b64('ee' + 'ff'.repeat(30) + '7f'))).toBe('E_KEY_NONCANONICAL'); // y = p + 1 (= 1)
    expect(ed25519KeyProblem(b64(withSign(IDENTITY)))).toBe('E_KEY_NONCANONICAL'); // "-0"
    expect(ed25519KeyProblem(b64(withSign(P_MINUS_1)))).toBe('E_KEY_NONCANONICAL');
  });

  it('refuses a y that is on no point of the curve', () => {
    expect(ed25519KeyProblem(b64('02' + '00'.repeat(31)))).toBe('E_KEY_NOT_ON_CURVE');
  });

  it('throws a PublicKeyError with the code and the parameter name', () => {
    expect(() => parseEd25519PublicKey(b64(IDENTITY), 'identityPublicKey')).toThrow(
      expect.objectContaining({ code: 'E_KEY_SMALL_ORDER', message: expect.stringMatching(/^identityPublicKey:/) }),
    );
    expect(() => parseEd25519PublicKey(b64(IDENTITY))).toThrow(PublicKeyError);
  });
});

describe('X25519 public keys', () => {
  it('accepts the RFC 7748 key and fresh keys (property)', () => {
    expect(x25519KeyProblem(b64(RFC7748_ALICE))).toBeUndefined();
    fc.assert(
      fc.property(fc.integer(), () => x25519KeyProblem(rawPublic('x25519').toString('base64')) === undefined),
      { numRuns: 50 },
    );
    expect(parseX25519PublicKey(b64(RFC7748_ALICE))).toHaveLength(32);
  });

  it('refuses the low-order u (libsodium list: 0, 1, the two of order 8, p - 1)', () => {
    for (const hex of [
      ZERO,
      IDENTITY,
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
      '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
      P_MINUS_1,
    ]) {
      expect(x25519KeyProblem(b64(hex)), hex).toBe('E_KEY_LOW_ORDER');
    }
  });

  it('refuses u >= p and a set top bit as non-canonical', () => {
    expect(x25519KeyProblem(b64('ed' + 'ff'.repeat(30) + '7f'))).toBe('E_KEY_NONCANONICAL');
    expect(x25519KeyProblem(b64('ee' + 'ff'.repeat(30) + '7f'))).toBe('E_KEY_NONCANONICAL');
    expect(x25519KeyProblem(b64(withSign(RFC7748_ALICE)))).toBe('E_KEY_NONCANONICAL');
  });

  it('checks raw bytes (keys that travel as binary) with the same verdicts', () => {
    const raw = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
    expect(checkX25519PublicKeyBytes(raw(RFC7748_ALICE))).toEqual(raw(RFC7748_ALICE));
    const codeOf = (bytes: unknown) => {
      try {
        checkX25519PublicKeyBytes(bytes, 'k');
        return undefined;
      } catch (error) {
        return (error as PublicKeyError).code;
      }
    };
    expect(codeOf(raw(ZERO))).toBe('E_KEY_LOW_ORDER');
    expect(codeOf(raw(P_MINUS_1))).toBe('E_KEY_LOW_ORDER');
    expect(codeOf(raw(withSign(RFC7748_ALICE)))).toBe('E_KEY_NONCANONICAL');
    expect(codeOf(new Uint8Array(31))).toBe('E_KEY_ENCODING');
    expect(codeOf('not bytes')).toBe('E_KEY_ENCODING');
  });
});

describe('verifyValue with the identity point (issue 16, finding 5)', () => {
  it('refuses the trivial signature that node:crypto alone accepts for every message', () => {
    const transcript = { siteId: 'x', clientNonce: 'a', serverNonce: 'b' };
    const trivial = Buffer.from(IDENTITY + '00'.repeat(32), 'hex'); // R = identity, S = 0
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(IDENTITY, 'hex')]);
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(verify(null, signedBytes(SIGNING_DOMAINS.siteAuth, transcript), key, trivial)).toBe(true);
    expect(verifyValue(SIGNING_DOMAINS.siteAuth, transcript, trivial.toString('base64'), b64(IDENTITY))).toBe(false);
  });
});
