/**
 * Virtual agents at scale (issue 20): `concord simulate --sites 1000 --cohort 100` on the real compiled CLI. Every
 * one of the 1,000 sites enrolls and holds its own authenticated socket.io connection to the real aggregator (the
 * runtimes share a pool of worker threads sized to the cores), each round draws 100 of them, trains them with
 * local DP under SecAgg+, and charges them in the PGlite ledger. No timing assertions: the figures (time to the
 * first round, peak RSS) are `npm run bench:virtual`'s, in docs/benchmarks.md.
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { CONCORD_BIN, runCliAsync } from '../support/cli.js';

describe('concord simulate --sites 1000 --cohort 100 (virtual agents)', () => {
  it('connects every site, releases the rounds and verifies the ledger', async () => {
    const result = await runCliAsync(
      CONCORD_BIN,
      ['simulate', '--sites', '1000', '--cohort', '100', '--rounds', '2', '--dp', 'local', '--json'],
      { timeoutMs: 420_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as {
      sites: number;
      cohort: number;
      rounds: number;
      failedRounds: number;
      ledger: { entries: number; verified: boolean };
      pool: { threads: number; authenticated: number; failed: number };
      perSiteEpsilon: Record<string, number>;
    };
    expect(summary).toMatchObject({ sites: 1000, cohort: 100, rounds: 2, ledger: { verified: true } });
    // all 1,000 held an authenticated connection before the first cohort was drawn, on a pool, not a thread each
    expect(summary.pool).toEqual({ threads: Math.min(availableParallelism(), 1000), authenticated: 1000, failed: 0 });
    expect(Object.keys(summary.perSiteEpsilon)).toHaveLength(1000);
    // one receipt per site in each released round's cohort (a site that dropped is not charged)
    expect(summary.ledger.entries).toBeGreaterThan(0);
    expect(summary.ledger.entries).toBeLessThanOrEqual(100 * summary.rounds);
    // only sites drawn into a cohort spent budget: at most 200 of the 1,000
    const charged = Object.values(summary.perSiteEpsilon).filter((e) => e > 0).length;
    expect(charged).toBeGreaterThan(0);
    expect(charged).toBeLessThanOrEqual(100 * summary.rounds);
  }, 450_000);
});
