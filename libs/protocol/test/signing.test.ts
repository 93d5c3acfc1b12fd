/** signValue with an imported KeyObject (signers that sign often keep one) and verifyValue's key cache. */
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SIGNING_DOMAINS, ed25519PublicKeyBase64, signValue, verifyValue } from '../src/index.js';

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

describe('signValue / verifyValue', () => {
  it('signs the same bytes with the seed or its KeyObject (Ed25519 is deterministic)', () => {
    const seed = new Uint8Array(randomBytes(32));
    const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
    const value = { siteId: 'a', n: [1, 2] };
    const signature = signValue(SIGNING_DOMAINS.serverAuth, value, key);
    expect(signature).toBe(signValue(SIGNING_DOMAINS.serverAuth, value, seed));
    const publicKey = ed25519PublicKeyBase64(seed);
    // twice: the second check uses the cached public KeyObject
    for (let i = 0; i < 2; i++) {
      expect(verifyValue(SIGNING_DOMAINS.serverAuth, value, signature, publicKey)).toBe(true);
      expect(verifyValue(SIGNING_DOMAINS.siteAuth, value, signature, publicKey)).toBe(false);
      expect(verifyValue(SIGNING_DOMAINS.serverAuth, { ...value, n: [2] }, signature, publicKey)).toBe(false);
    }
  });

  it('refuses a KeyObject that is not an Ed25519 private key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    expect(() => signValue(SIGNING_DOMAINS.plan, {}, privateKey)).toThrow(TypeError);
    const ed = generateKeyPairSync('ed25519');
    expect(() => signValue(SIGNING_DOMAINS.plan, {}, ed.publicKey)).toThrow(TypeError);
    expect(() => signValue(SIGNING_DOMAINS.plan, {}, publicKey)).toThrow(TypeError);
  });
});
