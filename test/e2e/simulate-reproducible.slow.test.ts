/**
 * `simulate --reproducible` (issue 20's faithfulness comparison): with every draw derived from --seed, two runs of a
 * federation (real aggregator, inline agent runtimes, SecAgg+, PGlite) release the same models round by round,
 * training and private evaluation alike; without it, two runs differ (the agents' noise is fresh).
 */
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../apps/aggregator/src/simulation/simulation.js';

const run = (reproducible: boolean) =>
  runSimulation({
    sites: 3,
    rounds: 2,
    partition: 'iid',
    mode: 'local',
    epsilon: 3,
    delta: 1e-5,
    accountant: 'rdp',
    dropout: 0,
    seed: 4,
    agents: 'inline',
    reproducible,
  });
const trace = (r: Awaited<ReturnType<typeof run>>) =>
  r.roundReports.map((x) => [x.kind, x.state, x.updateNorm ?? null, x.evaluation?.accuracy ?? null]);

describe('simulate --reproducible', () => {
  it('two runs on the same seed release the same models and evaluations; unseeded runs do not', async () => {
    const a = await run(true);
    const b = await run(true);
    expect(trace(a).map((t) => t[0])).toEqual(['training', 'evaluation', 'training', 'evaluation']);
    expect(trace(b)).toEqual(trace(a));
    expect([...b.weights]).toEqual([...a.weights]);
    const c = await run(false);
    expect([...c.weights]).not.toEqual([...a.weights]);
  }, 600_000);
});
