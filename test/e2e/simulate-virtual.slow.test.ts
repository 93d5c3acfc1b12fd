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
      /** one entry per round the engine ran: training rounds and private evaluation rounds, released or not */
      roundSeconds: unknown[];
    };
    expect(summary).toMatchObject({ sites: 1000, cohort: 100, rounds: 2, ledger: { verified: true } });
    // all 1,000 held an authenticated connection before the first cohort was drawn, on a pool, not a thread each
    expect(summary.pool).toEqual({ threads: Math.min(availableParallelism(), 1000), authenticated: 1000, failed: 0 });
    expect(Object.keys(summary.perSiteEpsilon)).toHaveLength(1000);
    // at most one receipt per cohort member of each round run (training rounds, and the private evaluation rounds,
    // which are charged too), and never one for a site outside the cohorts
    const ran = summary.roundSeconds.length;
    expect(ran).toBeGreaterThanOrEqual(2);
    expect(summary.ledger.entries).toBeGreaterThan(0);
    expect(summary.ledger.entries).toBeLessThanOrEqual(100 * ran);
    const charged = Object.values(summary.perSiteEpsilon).filter((e) => e > 0).length;
    expect(charged).toBeGreaterThan(0);
    expect(charged).toBeLessThanOrEqual(Math.min(1000, 100 * ran));
    // a cohort is drawn from the connected sites, so with 1,000 connected some sites were never charged
    expect(charged).toBeLessThan(1000);
  }, 450_000);
});
