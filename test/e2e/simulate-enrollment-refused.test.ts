/**
 * When the aggregator refuses to enroll so many simulated sites that no cohort can start, `simulate` stops at once
 * with the refusal's own code; before, the sites' errors were swallowed and the federation waited forever for sites
 * that would never come (this test then ran into its timeout). A refusal that leaves enough sites is only a missing
 * site (federation-faults.slow.test.ts: E_CAP_TOO_LOW with 3 of 4 sites left).
 */
import { expect, it } from 'vitest';
import { runSimulation } from '../../apps/aggregator/src/simulation/simulation.js';

it('stops with the refusal code when a site cannot enroll and too few are left (a cap below one round, 2 of 3 left)', async () => {
  await expect(
    runSimulation({
      sites: 3,
      rounds: 2,
      partition: 'iid',
      mode: 'local',
      epsilon: 3,
      delta: 1e-5,
      accountant: 'rdp',
      dropout: 0,
      seed: 0,
      agents: 'inline',
      site: (i) => (i === 1 ? { cap: { epsilon: 1e-6, delta: 1e-5 } } : {}),
    }),
  ).rejects.toMatchObject({
    name: 'SiteEnrollmentError',
    code: expect.stringMatching(/^E_[A-Z_]+$/),
    message: expect.stringMatching(/^site-1 could not enroll: HTTP 4\d\d: /),
  });
});
