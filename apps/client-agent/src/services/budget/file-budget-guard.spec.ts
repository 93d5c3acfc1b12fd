import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeEpsilon } from '@concord/dp';
import { receiptHash, signReceipt, type PrivacyReceipt } from '@concord/protocol';
import * as fs from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { generateSiteKeys } from '../../keys/site-state.js';
import { FileBudgetGuard, LEDGER_FILE } from './file-budget-guard.js';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>();
  return { ...real, openSync: vi.fn(real.openSync), fsyncSync: vi.fn(real.fsyncSync) };
});

const keys = generateSiteKeys();
const seed = Buffer.from(keys.identity.seed, 'base64');
const cap = { epsilon: 3, delta: 1e-5 };
const phase = { sampleRate: 0.02, noiseMultiplier: 1.1, steps: 20 };

function receipt(sequence: number, previous: PrivacyReceipt | null): PrivacyReceipt {
  return {
    version: 1,
    federationId: 'fed',
    siteId: 'site',
    roundId: `round-${sequence}`,
    sequence,
    previousReceiptHash: previous ? receiptHash(previous) : null,
    mode: 'local',
    sampleRate: phase.sampleRate,
    noiseMultiplier: phase.noiseMultiplier,
    steps: phase.steps,
    clipNorm: 1,
    delta: 1e-5,
    cap,
  } as PrivacyReceipt;
}

const open = (stateDir: string) => FileBudgetGuard.open({ stateDir, cap, identityPublicKey: keys.identity.publicKey });

async function recordRounds(stateDir: string, count: number) {
  const guard = open(stateDir);
  let previous: PrivacyReceipt | null = null;
  for (let i = 1; i <= count; i++) {
    const r = receipt(i, previous);
    previous = r;
    await guard.record({ receipt: r, signature: signReceipt(r, seed), phase, roundNumber: i });
  }
  return guard;
}

describe('FileBudgetGuard', () => {
  it('persists charges and composes the whole history after a restart (never adding epsilons)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-'));
    await recordRounds(dir, 3);
    const reopened = open(dir);
    expect(reopened.history).toHaveLength(3);
    const composed = computeEpsilon([phase, phase, phase], cap.delta).epsilon;
    expect(reopened.spent()).toBeCloseTo(composed, 10);
    expect(composed).toBeLessThan(3 * computeEpsilon([phase], cap.delta).epsilon);
    const check = reopened.check(phase);
    expect(check.epsilonBefore).toBeCloseTo(composed, 10);
    expect(check.epsilonAfter).toBeCloseTo(computeEpsilon([phase, phase, phase, phase], cap.delta).epsilon, 10);
  });

  it('refuses a plan that would cross the cap, counting what was already spent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-'));
    const guard = await recordRounds(dir, 1);
    const greedy = { sampleRate: 0.5, noiseMultiplier: 0.6, steps: 500 };
    expect(guard.check(greedy).fits).toBe(false);
    expect(guard.check(phase).fits).toBe(true);
  });

  it('reports a torn last line instead of dropping it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-'));
    await recordRounds(dir, 2);
    appendFileSync(join(dir, LEDGER_FILE), '{"receipt": {"vers');
    expect(() => open(dir)).toThrow(
      expect.objectContaining({ code: 'E_LEDGER_TORN', message: expect.stringMatching(/line 3/) }),
    );
  });

  it('refuses an entry this site did not sign (an edited ledger)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-'));
    await recordRounds(dir, 2);
    const file = join(dir, LEDGER_FILE);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const edited = JSON.parse(lines[1]);
    edited.receipt.noiseMultiplier = 50;
    writeFileSync(file, `${lines[0]}\n${JSON.stringify(edited)}\n`);
    expect(() => open(dir)).toThrow(
      expect.objectContaining({ code: 'E_LEDGER_SIGNATURE', message: expect.stringMatching(/line 2/) }),
    );
    writeFileSync(file, `${lines[0]}\nnot json\n`);
    expect(() => open(dir)).toThrow(expect.objectContaining({ code: 'E_LEDGER_CORRUPT' }));
  });

  it('fsyncs the ledger directory when the file is created, not on later appends (finding 4)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-'));
    const openSpy = vi.mocked(fs.openSync);
    const fsyncSpy = vi.mocked(fs.fsyncSync);
    openSpy.mockClear();
    fsyncSpy.mockClear();
    const guard = await recordRounds(dir, 2);
    const fdsOf = (path: string) =>
      openSpy.mock.calls.flatMap((args, i) => (args[0] === path ? [openSpy.mock.results[i].value as number] : []));
    const dirFds = fdsOf(dir);
    expect(dirFds).toHaveLength(1); // once, at creation
    expect(fsyncSpy.mock.calls.map((args) => args[0])).toContain(dirFds[0]);
    expect(guard.lastChargedRound()).toBe(2);
    expect(open(dir).lastChargedRound()).toBe(2); // the round numbers survive a restart
  });
});
