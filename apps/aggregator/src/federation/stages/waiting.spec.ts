import { computeEpsilon } from '@concord/dp';
import { RECEIPT_VERSION } from '@concord/protocol';
import { describe, expect, it } from 'vitest';
import type { Site } from '../../db/schema/sites.js';
import { nextRoundPhase, sitesWithBudget } from './budget.js';
import { settings as baseSettings } from './test-fakes.js';
import { waitForCohortPool } from './waiting.js';

const settings = { ...baseSettings, cohort: { minSites: 3, maxSites: 3 } };
const P = 4 * 2 + 2;
const oneRound = computeEpsilon([nextRoundPhase(settings, 3, P)!], 1e-5).epsilon;
const twoRounds = computeEpsilon([nextRoundPhase(settings, 3, P)!, nextRoundPhase(settings, 3, P)!], 1e-5).epsilon;

function site(id: string, capEpsilon: number): Site {
  return { id, status: 'active', capEpsilon, capDelta: 1e-5 } as Site;
}

/** One charged receipt of a round of `settings`, as the ledger stores it (entry `seq`). */
function charge(siteId: string, seq: number) {
  const p = settings.privacy as Extract<typeof settings.privacy, { mode: 'local' }>;
  return {
    seq,
    siteId,
    receipt: {
      version: RECEIPT_VERSION,
      federationId: 'f',
      siteId,
      roundId: 'r1',
      sequence: 1,
      previousReceiptHash: null,
      cap: { epsilon: 3, delta: 1e-5 },
      mode: 'local',
      sampleRate: p.sampleRate,
      noiseMultiplier: p.noiseMultiplier,
      steps: p.steps,
      clipNorm: p.clipNorm,
      delta: p.delta,
    },
  };
}

function deps(sites: Site[], connected: string[], entries: unknown[] = []) {
  const reasons: ({ code: string; message: string } | null)[] = [];
  return {
    reasons,
    deps: {
      sites: { sitesOf: async () => sites },
      federations: {
        setStatusReason: async (_id: string, r: { code: string; message: string } | null) => void reasons.push(r),
      },
      // as the ledger answers: entries after `afterSeq`, in seq order
      ledger: {
        entries: async (_f: string, o: { afterSeq?: number } = {}) =>
          (entries as { seq: number }[]).filter((e) => e.seq > (o.afterSeq ?? 0)) as never,
      },
      connections: { connectedSites: () => connected },
    },
  };
}

describe('waitForCohortPool', () => {
  it('says how many sites are connected while too few are, then clears the reason', async () => {
    const sites = ['a', 'b', 'c', 'd'].map((id) => site(id, 3));
    const connected = ['a', 'b'];
    const d = deps(sites, connected);
    const waiting = waitForCohortPool(d.deps, 'f', settings, P, { pollMs: 5 });
    await new Promise((r) => setTimeout(r, 30));
    expect(d.reasons).toEqual([{ code: 'WAITING_FOR_SITES', message: 'waiting: 2 of 3 sites connected' }]);
    connected.push('c');
    expect(await waiting).toEqual({ kind: 'ready', sites: ['a', 'b', 'c'] });
    expect(d.reasons.at(-1)).toBeNull();
  });

  it('leaves out connected sites whose cap cannot pay for one more round', async () => {
    // a and b have paid one round and can pay exactly one: a second would exceed their cap
    const sites = [
      site('a', oneRound * 1.0001),
      site('b', oneRound * 1.0001),
      ...['c', 'd', 'e'].map((id) => site(id, 3)),
    ];
    expect(twoRounds).toBeGreaterThan(oneRound * 1.0001);
    const d = deps(sites, ['a', 'b', 'c', 'd', 'e'], [charge('a', 1), charge('b', 2)]);
    expect(await waitForCohortPool(d.deps, 'f', settings, P)).toEqual({ kind: 'ready', sites: ['c', 'd', 'e'] });
  });

  it('waits with the budget reason when the connected sites with budget are too few', async () => {
    const sites = [site('a', oneRound * 1.0001), site('b', oneRound * 1.0001), ...['c', 'd'].map((id) => site(id, 3))];
    const controller = new AbortController();
    const d = deps(sites, ['a', 'b', 'd'], [charge('a', 1), charge('b', 2)]);
    const waiting = waitForCohortPool(d.deps, 'f', { ...settings, cohort: { minSites: 2, maxSites: 3 } }, P, {
      pollMs: 5,
      signal: controller.signal,
    });
    // a, b spent; c (with budget) not connected: 1 connected site with budget, need 2; not exhausted (c could come)
    await new Promise((r) => setTimeout(r, 30));
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    expect(d.reasons).toEqual([{ code: 'WAITING_FOR_BUDGET', message: 'waiting: 1 sites with budget, need 2' }]);
  });

  it('is exhausted when fewer than minSites enrolled sites can pay, connected or not', async () => {
    const sites = [site('a', oneRound * 1.0001), site('b', oneRound * 1.0001), site('c', 3)];
    const d = deps(sites, ['a', 'b', 'c'], [charge('a', 1), charge('b', 2)]);
    const pool = await waitForCohortPool(d.deps, 'f', settings, P);
    expect(pool).toMatchObject({ kind: 'exhausted', withBudget: 1, active: 3 });
    expect(d.reasons).toEqual([
      { code: 'E_BUDGET_EXHAUSTED', message: 'exhausted: 1 of 3 sites have budget for another round, need 3' },
    ]);
  });

  it('reads the ledger incrementally: a history is counted once, and later charges are added', async () => {
    const sites = [site('a', twoRounds * 1.0001), site('b', 3)];
    const entries = [charge('a', 1)];
    const d = deps(sites, ['a', 'b'], entries).deps;
    const check = () => sitesWithBudget(d, 'f', settings, 3, P);
    expect((await check()).withBudget).toEqual(new Set(['a', 'b'])); // a: one round spent, one left
    expect((await check()).withBudget).toEqual(new Set(['a', 'b'])); // read again: not counted twice
    entries.push(charge('b', 2), charge('a', 3));
    expect((await check()).withBudget).toEqual(new Set(['b'])); // a's second charge is seen
  });

  it('a site whose cap is below one round never has budget', async () => {
    const sites = [site('a', oneRound * 0.5), site('b', 3), site('c', 3)];
    const pool = await waitForCohortPool(deps(sites, ['a', 'b', 'c']).deps, 'f', settings, P);
    expect(pool.kind).toBe('exhausted');
  });
});
