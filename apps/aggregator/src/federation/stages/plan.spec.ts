import { describe, expect, it } from 'vitest';
import { PlanRefused, sendPlan } from './plan.js';
import { fakeConnections, fakeContext } from './test-fakes.js';

const weights = new Float32Array(10);

function deps(log: string[], answer: (siteId: string) => unknown, connected?: (siteId: string) => boolean) {
  return {
    rounds: {
      setState: async (_id: string, state: string) => void log.push(`state ${state}`),
      setParticipant: async (_id: string, siteIds: readonly string[], patch: { stage?: string }) =>
        void log.push(`${patch.stage} ${[...siteIds].sort().join(',')}`),
    },
    keys: { sign: () => 'signature' },
    connections: fakeConnections(log, (siteId) => answer(siteId), connected),
  };
}

describe('sendPlan', () => {
  it('stores the signed plan, sends it to every member and records who accepted', async () => {
    const log: string[] = [];
    const ctx = fakeContext(['a', 'b', 'c']);
    const out = await sendPlan(
      deps(log, () => ({ ok: true })),
      ctx,
      weights,
    );
    expect(out.accepted.sort()).toEqual(['a', 'b', 'c']);
    expect(out.plan.roster.map((m) => m.siteId)).toEqual(['a', 'b', 'c']);
    expect(log[0]).toBe('state open');
    expect(log.filter((l) => l.startsWith('request round:plan'))).toHaveLength(3);
    expect(log.at(-1)).toBe('plan_accepted a,b,c');
  });

  it('reports a site with no socket as E_DISCONNECTED and a silent one as E_TIMEOUT (the one request path)', async () => {
    const log: string[] = [];
    const ctx = fakeContext(['a', 'b', 'c', 'd']);
    const answer = (siteId: string) =>
      siteId === 'c' ? 'hang' : siteId === 'd' ? { ok: false, code: 'E_CAP_EXCEEDED', reason: 'cap' } : { ok: true };
    const error = await sendPlan(
      deps(log, answer, (id) => id !== 'b'),
      ctx,
      weights,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlanRefused);
    const drops = (error as PlanRefused).drops.sort((x, y) => x.siteId.localeCompare(y.siteId));
    expect((error as PlanRefused).code).toBe('E_TOO_FEW_SURVIVORS');
    expect(drops.map((d) => [d.siteId, d.code])).toEqual([
      ['b', 'E_DISCONNECTED'],
      ['c', 'E_TIMEOUT'],
      ['d', 'E_CAP_EXCEEDED'],
    ]);
  });

  it('refuses a roster under 2 before sending anything', async () => {
    const log: string[] = [];
    await expect(
      sendPlan(
        deps(log, () => ({ ok: true })),
        fakeContext(['a']),
        weights,
      ),
    ).rejects.toMatchObject({
      code: 'E_TOO_FEW_SITES',
    });
    expect(log).toEqual([]);
  });
});
