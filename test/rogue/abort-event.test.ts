/**
 * An aborted round (round:abort for the site's round in progress) ends the session and is reported by round NUMBER,
 * without throwing in the socket handler (an exception there would end the agent process).
 */
import { describe, expect, it } from 'vitest';
import { LOCAL_TERMS, RogueAggregator } from './harness.js';

describe('round:abort', () => {
  it('ends the round in progress and reports it by number', async () => {
    const rogue = new RogueAggregator(3, LOCAL_TERMS);
    try {
      const site = rogue.sites[0];
      const plan = rogue.validPlan();
      expect(await rogue.ask(site, 'round:plan', rogue.sign(plan))).toEqual({ ok: true });
      expect(() =>
        site.handlers['round:abort']({ roundId: plan.roundId, code: 'E_TOO_FEW_SURVIVORS', reason: 'x' }),
      ).not.toThrow();
      expect(site.events).toContainEqual({
        type: 'round-aborted',
        roundNumber: plan.roundNumber,
        roundId: plan.roundId,
        code: 'E_TOO_FEW_SURVIVORS',
      });
      // the session is over: the round's SecAgg+ requests find nothing to answer with
      const reply = await rogue.ask(site, 'secagg:seed-commit', {
        federationId: plan.federationId,
        roundId: plan.roundId,
      });
      expect(reply).toMatchObject({ ok: false, code: 'E_NOT_IN_ROUND' });
    } finally {
      rogue.close();
    }
  });
});
