/**
 * A simulated site the aggregator refuses to enroll stops `simulate` at once with the refusal's own code; before,
 * the site's error was swallowed and the federation waited forever for a site that would never come (this test then
 * ran into its timeout).
 */
import { expect, it } from 'vitest';
import { runSimulation } from '../../apps/aggregator/src/simulation/simulation.js';

it('stops with the refusal code when a site cannot enroll (here: a cap below one round)', async () => {
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
