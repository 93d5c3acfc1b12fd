/**
 * Budget-aware cohorts with real agents (inline runtimes training MNIST over socket.io under SecAgg+, PGlite):
 * the low-cap scenario (5 sites, cohort 3, two sites whose cap pays for one round only) releases every
 * round and fails none for lack of budget; when too few sites can pay, the federation ends `exhausted` with its
 * reason instead of failing rounds.
 */
import { computeEpsilon } from '@concord/dp';
import { describe, expect, it } from 'vitest';
import { nextRoundPhase } from '../../apps/aggregator/src/federation/stages/budget.js';
import type { FederationSettings } from '../../apps/aggregator/src/federation/settings.js';
import { FederationRepository } from '../../apps/aggregator/src/repositories/federation.repository.js';
import { runSimulation } from '../../apps/aggregator/src/simulation/simulation.js';

const DELTA = 1e-5;
const PARAMETERS = 833 * 10 + 10;

/** A cap that pays for exactly `rounds` rounds of `settings` (and not one more). */
function capFor(settings: FederationSettings, rounds: number): number {
  const phase = nextRoundPhase(settings, settings.cohort.maxSites, PARAMETERS)!;
  const exact = computeEpsilon(Array(rounds).fill(phase), DELTA).epsilon;
  const more = computeEpsilon(Array(rounds + 1).fill(phase), DELTA).epsilon;
  expect(more).toBeGreaterThan(exact * 1.001);
  return exact * 1.0005;
}

let lowCap = 0;

function options(sites: number, rounds: number, lowCapSites: number, lowCapRounds: number) {
  return {
    sites,
    rounds,
    partition: 'iid',
    mode: 'local' as const,
    epsilon: 3,
    delta: DELTA,
    accountant: 'rdp' as const,
    dropout: 0,
    seed: 3,
    agents: 'inline' as const,
    settings: (s: FederationSettings) => {
      const settings = { ...s, cohort: { minSites: 3, maxSites: 3 } };
      lowCap = capFor(settings, lowCapRounds);
      return settings;
    },
    site: (i: number) => (i < lowCapSites ? { cap: { epsilon: lowCap, delta: DELTA } } : {}),
  };
}

describe('budget-aware cohorts', () => {
  it('5 sites, cohort 3, two low-cap sites: every round released, none failed for lack of budget', async () => {
    const failures: string[] = [];
    let evaluationCharges = 0;
    const result = await runSimulation({
      ...options(5, 4, 2, 1),
      onRound: (r) => {
        if (r.state !== 'released') failures.push(r.reason ?? 'failed');
        else if (r.kind === 'evaluation') evaluationCharges += r.survivors;
      },
    });
    expect(failures).toEqual([]);
    expect(result.failedRounds).toBe(0);
    expect(result.rounds).toBe(4);
    expect(result.ledgerVerified).toBe(true);
    // 4 rounds x 3 sites, plus one charge per site in each private evaluation (versions 2 and 4, drawn from the
    // sites that can pay for it); the two low-cap sites paid at most their one round each
    expect(evaluationCharges).toBeGreaterThan(0);
    expect(result.ledgerEntries).toBe(12 + evaluationCharges);
    expect(result.perSiteEpsilon['site-0']).toBeLessThanOrEqual(lowCap);
    expect(result.perSiteEpsilon['site-1']).toBeLessThanOrEqual(lowCap);
  }, 900_000);

  it('ends exhausted, with the reason, when fewer than minSites sites can pay for another round', async () => {
    const result = await runSimulation({ ...options(3, 3, 3, 1), keepRunning: true });
    try {
      expect(result.rounds).toBe(1);
      expect(result.failedRounds).toBe(0);
      const federation = await result.server.app.get(FederationRepository).get(result.federationId);
      expect(federation?.status).toBe('exhausted');
      expect(federation?.statusReason).toEqual({
        code: 'E_BUDGET_EXHAUSTED',
        message: 'exhausted: 0 of 3 sites have budget for another round, need 3',
      });
    } finally {
      await result.close();
    }
  }, 900_000);
});
