import { createHash } from 'node:crypto';
import { computeEpsilon } from '@concord/dp';
import { ed25519PublicKeyFromSeed, receiptHash, signReceipt, type PrivacyReceipt } from '@concord/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, computeEntryHash } from './chain.js';
import type { LedgerEntryInput } from './verify.js';
import { auditLedger, phaseOfReceipt } from './audit.js';

const FEDERATION = 'fed-1';
const seedOf = (site: string) => new Uint8Array(createHash('sha256').update(site).digest());

/** A valid chain: `sites` sites charged in turn for `rounds` rounds with the given receipt terms. */
function chain(
  sites: string[],
  rounds: number,
  terms: Partial<PrivacyReceipt> | ((round: number) => Partial<PrivacyReceipt>) = {},
): { entries: LedgerEntryInput[]; keys: Map<string, string> } {
  const entries: LedgerEntryInput[] = [];
  const last = new Map<string, { sequence: number; hash: string }>();
  let prev = GENESIS_HASH;
  for (let r = 1; r <= rounds; r++) {
    for (const siteId of sites) {
      const before = last.get(siteId);
      const receipt: PrivacyReceipt = {
        version: 1,
        federationId: FEDERATION,
        siteId,
        roundId: `round-${r}`,
        sequence: (before?.sequence ?? 0) + 1,
        previousReceiptHash: before?.hash ?? null,
        mode: 'local',
        sampleRate: 0.02,
        noiseMultiplier: 1.0,
        steps: 50,
        clipNorm: 1,
        delta: 1e-5,
        cap: { epsilon: 10, delta: 1e-5 },
        ...(typeof terms === 'function' ? terms(r) : terms),
      };
      const signature = signReceipt(receipt, seedOf(siteId));
      const body = {
        federationId: FEDERATION,
        seq: entries.length + 1,
        siteId,
        roundId: receipt.roundId,
        receiptHash: receiptHash(receipt),
        signature,
        recordedAt: new Date(Date.UTC(2026, 0, 1, 0, entries.length)).toISOString(),
      };
      const entryHash = computeEntryHash(prev, body);
      entries.push({ ...body, receipt, prevHash: prev, entryHash });
      last.set(siteId, { sequence: receipt.sequence, hash: body.receiptHash });
      prev = entryHash;
    }
  }
  return { entries, keys: new Map(sites.map((s) => [s, ed25519PublicKeyFromSeed(seedOf(s))])) };
}

describe('auditLedger', () => {
  it('recomputes each site epsilon by composing its receipts (not adding epsilons)', () => {
    const { entries, keys } = chain(['a', 'b'], 3);
    const report = auditLedger({ entries, publicKeys: keys });
    expect(report.ok).toBe(true);
    const composed = computeEpsilon([{ sampleRate: 0.02, noiseMultiplier: 1, steps: 150 }], 1e-5).epsilon;
    const oneRound = computeEpsilon([{ sampleRate: 0.02, noiseMultiplier: 1, steps: 50 }], 1e-5).epsilon;
    for (const s of report.sites) {
      expect(s.epsilon).toBeCloseTo(composed, 12);
      expect(s.epsilon).toBeLessThan(3 * oneRound);
      expect(s).toMatchObject({ delta: 1e-5, cap: 10, charges: 3 });
    }
  });

  it('maps a distributed receipt to the DDG mechanism (gamma = 1/granularity, sigma = sqrt(variance))', () => {
    const distributed = {
      granularity: 1024,
      roundingBeta: Math.exp(-0.5),
      dimension: 8192,
      modulusBits: 32,
      localNoiseVariance: 400,
      minNoisyClients: 5,
      cohortSize: 8,
    };
    const receipt = {
      ...chain(['a'], 1).entries[0].receipt,
      mode: 'distributed',
      steps: 1,
      distributed,
    } as PrivacyReceipt;
    const phase = phaseOfReceipt(receipt);
    expect(phase.mechanism).toEqual({
      kind: 'distributed-discrete-gaussian',
      l2Clip: 1,
      granularity: 1 / 1024,
      dimension: 8192,
      roundingBias: Math.exp(-0.5),
      localSigma: 20,
      minClients: 5,
    });
    expect(computeEpsilon([phase], 1e-5).epsilon).toBeGreaterThan(0);
  });

  it('accepts an older kept head (the ledger grew) and reports an unknown one', () => {
    const { entries, keys } = chain(['a'], 4);
    expect(auditLedger({ entries, publicKeys: keys, expectHead: entries[1].entryHash }).ok).toBe(true);
    const cut = auditLedger({ entries: entries.slice(0, 2), publicKeys: keys, expectHead: entries[3].entryHash });
    expect(cut.findings).toEqual([expect.objectContaining({ seq: 2, kind: 'head' })]);
  });

  it('reports the first entry that takes a site past the cap its receipt declares', () => {
    const cap = computeEpsilon([{ sampleRate: 0.02, noiseMultiplier: 1, steps: 100 }], 1e-5).epsilon * 1.01;
    const { entries, keys } = chain(['a'], 4, { cap: { epsilon: cap, delta: 1e-5 } });
    const report = auditLedger({ entries, publicKeys: keys });
    expect(report.findings).toEqual([expect.objectContaining({ seq: 3, kind: 'cap-exceeded' })]);
  });

  it('finds any single deleted, swapped or altered entry (property)', () => {
    const { entries, keys } = chain(['a', 'b', 'c'], 3);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: entries.length - 1 }),
        fc.constantFrom('delete', 'swap', 'alter'),
        (i, how) => {
          let tampered = entries.slice();
          if (how === 'delete') {
            if (i === entries.length - 1) return; // a cut tail needs a kept head (tested above)
            tampered.splice(i, 1);
          } else if (how === 'swap') {
            const j = (i + 1) % entries.length;
            [tampered[i], tampered[j]] = [tampered[j], tampered[i]];
          } else {
            tampered = tampered.map((e, k) =>
              k === i ? { ...e, receipt: { ...(e.receipt as PrivacyReceipt), noiseMultiplier: 9 } } : e,
            );
          }
          expect(auditLedger({ entries: tampered, publicKeys: keys }).ok).toBe(false);
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });
});

describe('auditLedger: the accountant the receipts name (finding 6)', () => {
  it('composes a PRV site with PRV, as its own ledger does, and an unnamed one with RDP', () => {
    const prv = chain(['a'], 4, { accountant: 'prv' });
    const report = auditLedger({ entries: prv.entries, publicKeys: prv.keys });
    expect(report.ok).toBe(true);
    const phases = prv.entries.map((e) => phaseOfReceipt(e.receipt as PrivacyReceipt));
    const site = report.sites[0];
    expect(site.accountant).toBe('prv');
    expect(site.epsilon).toBe(computeEpsilon(phases, 1e-5, { accountant: 'prv' }).epsilon);
    expect(site.epsilon).not.toBe(computeEpsilon(phases, 1e-5, { accountant: 'rdp' }).epsilon);
    const plain = chain(['a'], 4);
    const rdp = auditLedger({ entries: plain.entries, publicKeys: plain.keys }).sites[0];
    expect(rdp.accountant).toBe('rdp');
    expect(rdp.epsilon).toBe(computeEpsilon(phases, 1e-5, { accountant: 'rdp' }).epsilon);
  });

  it('receipts of one site naming different accountants are an accounting finding (composed with rdp)', () => {
    const mixed = chain(['a'], 3, (r) => ({ accountant: r === 2 ? 'rdp' : 'prv' }));
    const report = auditLedger({ entries: mixed.entries, publicKeys: mixed.keys });
    expect(report.ok).toBe(false);
    expect(report.findings).toEqual([expect.objectContaining({ seq: 2, kind: 'accounting' })]);
    const phases = mixed.entries.map((e) => phaseOfReceipt(e.receipt as PrivacyReceipt));
    expect(report.sites[0]).toMatchObject({
      accountant: 'rdp',
      epsilon: computeEpsilon(phases, 1e-5, { accountant: 'rdp' }).epsilon,
    });
  });
});

describe('auditLedger: evaluation charges (issue 17, the max rule)', () => {
  // rounds 1-2 train, rounds 3-4 evaluate (rate 1, one step); the cap sits between max(T, E) and T + E
  const terms = (r: number): Partial<PrivacyReceipt> =>
    r <= 2 ? {} : { sampleRate: 1, steps: 1, noiseMultiplier: 6, clipNorm: 2, use: 'evaluation' };
  const probe = chain(['a'], 4, terms);
  const phases = probe.entries.map((e) => phaseOfReceipt(e.receipt as PrivacyReceipt));
  const maxRule = computeEpsilon(phases, 1e-5).epsilon;
  const summed = computeEpsilon(
    phases.map((p) => ({ ...p, use: undefined })),
    1e-5,
  ).epsilon;

  it('keeps the receipt use in the phase, and the cap check composes by the max rule, not the sum', () => {
    expect(phases.map((p) => p.use)).toEqual([undefined, undefined, 'evaluation', 'evaluation']);
    expect(summed).toBeGreaterThan(maxRule * 1.01);
    const cap = (maxRule + summed) / 2;
    const { entries, keys } = chain(['a'], 4, (r) => ({ ...terms(r), cap: { epsilon: cap, delta: 1e-5 } }));
    const report = auditLedger({ entries, publicKeys: keys });
    expect(report.findings).toEqual([]);
    expect(report.sites[0].epsilon).toBeCloseTo(maxRule, 9);
  });
});
