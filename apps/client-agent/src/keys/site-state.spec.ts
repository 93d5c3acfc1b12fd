import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  generateSiteKeys,
  loadSiteState,
  lowerCap,
  pinnedTerms,
  saveSiteState,
  stateFilePath,
  type SiteState,
} from './site-state.js';

function sampleState(): SiteState {
  const keys = generateSiteKeys();
  return {
    version: 1,
    server: 'http://127.0.0.1:3000',
    siteId: 'site-1',
    federationId: 'fed-1',
    serverPublicKey: generateSiteKeys().identity.publicKey,
    identity: keys.identity,
    agreement: keys.agreement,
    cap: { epsilon: 3, delta: 1e-5 },
    enrolledAt: new Date(0).toISOString(),
  };
}

describe('site state', () => {
  it('round-trips through a 0600 file in a 0700 directory', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'agent-')), 'state');
    const state = sampleState();
    saveSiteState(dir, state);
    expect(statSync(stateFilePath(dir)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(loadSiteState(dir)).toEqual(state);
  });

  it('generates distinct 32-byte keys', () => {
    const a = generateSiteKeys();
    const b = generateSiteKeys();
    for (const key of [a.identity.seed, a.identity.publicKey, a.agreement.privateKey, a.agreement.publicKey]) {
      expect(Buffer.from(key, 'base64')).toHaveLength(32);
    }
    expect(a.identity.seed).not.toBe(b.identity.seed);
    expect(a.agreement.publicKey).not.toBe(b.agreement.publicKey);
  });

  it('refuses a key file others can read, without printing its content', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-'));
    const state = sampleState();
    saveSiteState(dir, state);
    chmodSync(stateFilePath(dir), 0o644);
    expect(() => loadSiteState(dir)).toThrow(expect.objectContaining({ code: 'E_KEY_PERMISSIONS' }));
    try {
      loadSiteState(dir);
    } catch (error) {
      expect((error as Error).message).not.toContain(state.identity.seed);
    }
  });

  it('names what is wrong: not enrolled, not JSON, wrong shape', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-'));
    expect(() => loadSiteState(dir)).toThrow(expect.objectContaining({ code: 'E_NOT_ENROLLED' }));
    writeFileSync(stateFilePath(dir), '{', { mode: 0o600 });
    expect(() => loadSiteState(dir)).toThrow(expect.objectContaining({ code: 'E_STATE_CORRUPT' }));
    writeFileSync(stateFilePath(dir), JSON.stringify({ ...sampleState(), cap: { epsilon: -1, delta: 1e-5 } }), {
      mode: 0o600,
    });
    expect(() => loadSiteState(dir)).toThrow(/cap\.epsilon/);
  });

  it('lowers a cap but never raises it', () => {
    const cap = { epsilon: 3, delta: 1e-5 };
    expect(lowerCap(cap, {})).toEqual(cap);
    expect(lowerCap(cap, { epsilon: 2 })).toEqual({ epsilon: 2, delta: 1e-5 });
    expect(lowerCap(cap, { delta: 1e-6 })).toEqual({ epsilon: 3, delta: 1e-6 });
    expect(() => lowerCap(cap, { epsilon: 3.5 })).toThrow(expect.objectContaining({ code: 'E_CAP_RAISE' }));
    expect(() => lowerCap(cap, { delta: 1e-4 })).toThrow(expect.objectContaining({ code: 'E_CAP_RAISE' }));
  });

  it('pins privacy terms: an enrollment without them is refused (migration: enroll again), --accountant must match', () => {
    const old = sampleState(); // an enrollment from before terms were pinned
    expect(() => pinnedTerms(old, undefined)).toThrow(expect.objectContaining({ code: 'E_TERMS_NOT_PINNED' }));
    const dir = join(mkdtempSync(join(tmpdir(), 'agent-')), 'state');
    saveSiteState(dir, old);
    expect(loadSiteState(dir).terms).toBeUndefined(); // still readable, so the site can inspect its ledger
    const pinned: SiteState = { ...old, terms: { mode: 'local', accountant: 'prv', delta: 1e-5, clipNorm: 1 } };
    saveSiteState(dir, pinned);
    const state = loadSiteState(dir);
    expect(pinnedTerms(state, undefined)).toEqual({ terms: pinned.terms, accountant: 'prv' });
    expect(pinnedTerms(state, 'prv').accountant).toBe('prv');
    // finding 6: composing with another accountant than the federation's is refused up front
    expect(() => pinnedTerms(state, 'rdp')).toThrow(expect.objectContaining({ code: 'E_TERMS_ACCOUNTANT' }));
  });
});
