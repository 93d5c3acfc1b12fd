import { createHash } from 'node:crypto';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  ReceiptError,
  canonicalReceiptBytes,
  isProvenReceipt,
  verifyReceiptWithProof,
  ed25519PublicKeyFromSeed,
  parsePrivacyReceipt,
  receiptHash,
  signReceipt,
  verifyReceiptSignature,
  type PrivacyReceipt,
} from '../src/receipt.js';

const base: PrivacyReceipt = {
  version: 1,
  federationId: 'fed-1',
  siteId: 'site-1',
  roundId: 'round-1',
  sequence: 1,
  previousReceiptHash: null,
  mode: 'local',
  sampleRate: 0.01,
  noiseMultiplier: 1.1,
  steps: 100,
  clipNorm: 1,
  delta: 1e-5,
  cap: { epsilon: 8, delta: 1e-5 },
};

// RFC 8032 section 7.1, TEST 1
const RFC8032_SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
const RFC8032_PUBLIC = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');

const receiptArbitrary: fc.Arbitrary<PrivacyReceipt> = fc.record({
  version: fc.constant(1 as const),
  federationId: fc.uuid(),
  siteId: fc.uuid(),
  roundId: fc.string({ minLength: 1, maxLength: 20 }),
  sequence: fc.constant(1),
  previousReceiptHash: fc.constant(null),
  mode: fc.constant('local' as const),
  sampleRate: fc.double({ min: 1e-6, max: 1, noNaN: true }),
  noiseMultiplier: fc.double({ min: 0.01, max: 100, noNaN: true }),
  steps: fc.integer({ min: 1, max: 100_000 }),
  clipNorm: fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
  delta: fc.double({ min: 1e-12, max: 0.5, noNaN: true }),
  cap: fc.record({ epsilon: fc.double({ min: 0.01, max: 100, noNaN: true }), delta: fc.constant(1e-5) }),
});

describe('privacy receipt encoding', () => {
  it('derives the RFC 8032 test-1 public key from its seed', () => {
    expect(ed25519PublicKeyFromSeed(RFC8032_SEED)).toBe(RFC8032_PUBLIC.toString('base64'));
  });

  it('encodes canonically (RFC 8785): sorted keys, no whitespace, ES number formatting', () => {
    const text = new TextDecoder().decode(canonicalReceiptBytes(base));
    expect(text).toBe(
      '{"cap":{"delta":0.00001,"epsilon":8},"clipNorm":1,"delta":0.00001,"federationId":"fed-1","mode":"local",' +
        '"noiseMultiplier":1.1,"previousReceiptHash":null,"roundId":"round-1","sampleRate":0.01,"sequence":1,' +
        '"siteId":"site-1","steps":100,"version":1}',
    );
    expect(receiptHash(base)).toBe(createHash('sha256').update(text).digest('hex'));
  });

  it('gives the same bytes whatever the key order', () => {
    fc.assert(
      fc.property(receiptArbitrary, (receipt) => {
        const reversed = Object.fromEntries(Object.entries(receipt).reverse()) as PrivacyReceipt;
        expect(Buffer.from(canonicalReceiptBytes(reversed)).equals(Buffer.from(canonicalReceiptBytes(receipt)))).toBe(
          true,
        );
      }),
      { numRuns: 50 },
    );
  });
});

describe('privacy receipt signatures', () => {
  it('signs exactly as tweetnacl does over the canonical bytes (cross-check)', () => {
    fc.assert(
      fc.property(receiptArbitrary, fc.uint8Array({ minLength: 32, maxLength: 32 }), (receipt, seed) => {
        const pair = nacl.sign.keyPair.fromSeed(seed);
        const expected = nacl.sign.detached(canonicalReceiptBytes(receipt), pair.secretKey);
        expect(signReceipt(receipt, seed)).toBe(Buffer.from(expected).toString('base64'));
        expect(ed25519PublicKeyFromSeed(seed)).toBe(Buffer.from(pair.publicKey).toString('base64'));
      }),
      { numRuns: 30 },
    );
  });

  it('verifies its own signatures and rejects any changed field or another key', () => {
    fc.assert(
      fc.property(
        receiptArbitrary,
        fc.constantFrom('noiseMultiplier', 'sampleRate', 'clipNorm', 'delta'),
        (receipt, field) => {
          const publicKey = ed25519PublicKeyFromSeed(RFC8032_SEED);
          const signature = signReceipt(receipt, RFC8032_SEED);
          expect(verifyReceiptSignature(receipt, signature, publicKey)).toBe(true);
          const changed = { ...receipt, [field]: (receipt[field] as number) / 2 };
          expect(verifyReceiptSignature(changed, signature, publicKey)).toBe(false);
          const otherKey = ed25519PublicKeyFromSeed(new Uint8Array(32).fill(1));
          expect(verifyReceiptSignature(receipt, signature, otherKey)).toBe(false);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('guards keys and signatures by type and length, naming the parameter', () => {
    const signature = signReceipt(base, RFC8032_SEED);
    const publicKey = ed25519PublicKeyFromSeed(RFC8032_SEED);
    expect(() => signReceipt(base, 'seed' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => signReceipt(base, new Uint8Array(31))).toThrow(/privateKeySeed/);
    expect(() => verifyReceiptSignature(base, signature, 'abc')).toThrow(RangeError);
    expect(() => verifyReceiptSignature(base, 42 as unknown as string, publicKey)).toThrow(/signature/);
    expect(verifyReceiptSignature({ ...base, steps: 0 }, signature, publicKey)).toBe(false);
  });
});

describe('receipt proofs (one Ed25519 verification per receipt, its result passed on)', () => {
  const publicKey = ed25519PublicKeyFromSeed(RFC8032_SEED);
  const signature = signReceipt(base, RFC8032_SEED);

  it('a verification that succeeds proves exactly its key, signature and receipt bytes', () => {
    const proof = verifyReceiptWithProof(base, signature, publicKey)!;
    expect(proof).toBeDefined();
    expect(isProvenReceipt(proof, structuredClone(base), signature, publicKey)).toBe(true);
    const otherKey = ed25519PublicKeyFromSeed(new Uint8Array(32).fill(1));
    expect(isProvenReceipt(proof, base, signature, otherKey)).toBe(false);
    expect(isProvenReceipt(proof, base, signReceipt(base, new Uint8Array(32).fill(1)), publicKey)).toBe(false);
    expect(isProvenReceipt(proof, { ...base, steps: 99 }, signature, publicKey)).toBe(false);
    expect(isProvenReceipt(proof, { ...base, extra: 1 }, signature, publicKey)).toBe(false);
  });

  it('a failed verification proves nothing, and a look-alike object is no proof', () => {
    expect(verifyReceiptWithProof({ ...base, steps: 99 }, signature, publicKey)).toBeUndefined();
    expect(isProvenReceipt({ kind: 'verified-receipt' }, base, signature, publicKey)).toBe(false);
    expect(isProvenReceipt(undefined, base, signature, publicKey)).toBe(false);
  });
});

describe('privacy receipt schema', () => {
  const distributed = {
    granularity: 1024,
    roundingBeta: Math.exp(-0.5),
    dimension: 101_770,
    modulusBits: 32,
    localNoiseVariance: 400,
    minNoisyClients: 8,
    cohortSize: 10,
  };

  it('accepts both modes with the right parameters', () => {
    expect(parsePrivacyReceipt({ ...base, mode: 'distributed', distributed })).toMatchObject({ mode: 'distributed' });
    expect(parsePrivacyReceipt({ ...base, sequence: 2, previousReceiptHash: 'a'.repeat(64) }).sequence).toBe(2);
  });

  it.each([
    ['distributed without its parameters', { mode: 'distributed' }, 'distributed'],
    ['local with distributed parameters', { distributed }, 'distributed'],
    [
      'fewer noisy clients guaranteed than the cohort allows',
      { mode: 'distributed', distributed: { ...distributed, minNoisyClients: 11 } },
      'minNoisyClients',
    ],
    ['a first receipt naming a previous one', { previousReceiptHash: 'a'.repeat(64) }, 'previousReceiptHash'],
    ['a later receipt naming none', { sequence: 2 }, 'previousReceiptHash'],
    ['an unknown field', { epsilon: 1 }, 'epsilon'],
    ['a sample rate above 1', { sampleRate: 1.5 }, 'sampleRate'],
    ['a zero noise multiplier', { noiseMultiplier: 0 }, 'noiseMultiplier'],
    ['fractional steps', { steps: 1.5 }, 'steps'],
    ['delta of 1', { delta: 1 }, 'delta'],
    ['an infinite cap', { cap: { epsilon: Infinity, delta: 1e-5 } }, 'cap.epsilon'],
    ['an upper-case hash', { sequence: 2, previousReceiptHash: 'A'.repeat(64) }, 'previousReceiptHash'],
  ])('refuses %s with a coded error naming the field', (_name, change, field) => {
    const error = (() => {
      try {
        parsePrivacyReceipt({ ...base, ...change });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ReceiptError);
    expect((error as ReceiptError).code).toBe('E_RECEIPT_INVALID');
    expect((error as ReceiptError).message).toContain(field);
  });
});
