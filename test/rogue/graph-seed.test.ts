/**
 * The graph seed against a rogue aggregator (issue 15, "The graph seed"; docs/threat-model.md): the cohort draws
 * the SecAgg+ neighbour graph by commit-and-reveal (libs/secagg seed-flip.ts), so the aggregator cannot choose it.
 * A cohort of 16 with the default shape for c = 1 (k = 10 < n - 1 = 15, t = 7): the graph is not complete, so the
 * seed matters and each attack below could succeed if a check were missing.
 *
 * Real agents (AgentRuntime, file ledgers, native training, real SecAgg+ clients) driven by a server holding the
 * aggregator's signing key. Every attack ends with coded refusals, no masked input sent and every ledger file
 * byte-identical; R = 3 rounds in a row aborted after the reveal stop the agent (E_TOO_MANY_ABORTS).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  collusionSafeShape,
  type AdvertiseKeys,
  type KeyRoster,
  type SeedCommitments,
  type SeedReveals,
} from '@concord/protocol';
import { DISTRIBUTED_TERMS, RogueAggregator, type RogueSite } from './harness.js';

const N = 16;
let rogue: RogueAggregator | undefined;
afterEach(() => rogue?.close());

async function acceptAll(r: RogueAggregator) {
  const plan = r.validPlan();
  for (const s of r.sites) expect(await r.ask(s, 'round:plan', r.sign(plan))).toEqual({ ok: true });
  return plan;
}

function snapshot(r: RogueAggregator) {
  return new Map(r.sites.map((s) => [s.siteId, { ledger: r.ledgerBytes(s), replies: s.replies.length }]));
}

/** Since `before`: every ledger file byte-identical and no masked input sent. */
function expectNoCharge(r: RogueAggregator, before: ReturnType<typeof snapshot>) {
  for (const s of r.sites) {
    const then = before.get(s.siteId)!;
    expect(r.ledgerBytes(s), s.siteId).toBe(then.ledger);
    const sent = s.replies
      .slice(then.replies)
      .some((x) => x.event === 'secagg:share-route' && (x.reply as { ok?: unknown }).ok === true);
    expect(sent, s.siteId).toBe(false);
  }
}

const replyTo = (site: RogueSite, event: string) => site.replies.filter((x) => x.event === event).at(-1)?.reply;

/** Withholds `victim`'s reveal from every member: what an aborting server does to redraw the seed. */
const withhold = (victim: string) => (stage: string, _id: string, m: unknown) =>
  stage === 'seed-reveals'
    ? { ...(m as SeedReveals), reveals: (m as SeedReveals).reveals.filter((r) => r.clientId !== victim) }
    : m;

describe('rogue aggregator: the SecAgg+ graph seed (cohort of 16)', () => {
  it('the shape is not complete at 16, and an honest round with the flip releases the sum', async () => {
    expect(collusionSafeShape(N, 1)).toEqual({ neighbours: 10, threshold: 7 });
    rogue = new RogueAggregator(N, DISTRIBUTED_TERMS);
    const plan = await acceptAll(rogue);
    expect(plan.secagg.neighbours).toBeLessThan(N - 1);
    const out = await rogue.runRound(plan);
    expect(out.status).toBe('done');
    expect(out.survivors).toHaveLength(N);
    for (const s of rogue.sites) expect(s.budget.lastChargedRound()).toBe(1);
  }, 120_000);

  it('a plan that carries its own graph seed is refused before anything runs', async () => {
    rogue = new RogueAggregator(N, DISTRIBUTED_TERMS);
    const plan = { ...rogue.validPlan() };
    const chosen = { ...plan, secagg: { ...plan.secagg, graphSeed: randomBytes(32).toString('base64') } };
    const before = snapshot(rogue);
    const site = rogue.sites[0];
    const reply = await rogue.ask(site, 'round:plan', rogue.sign(chosen as typeof plan));
    expect(reply).toMatchObject({ ok: false, code: 'E_BAD_MESSAGE' }); // the plan schema is strict: no graphSeed field
    expect(
      await rogue.ask(site, 'secagg:seed-commit', { federationId: plan.federationId, roundId: plan.roundId }),
    ).toMatchObject({ ok: false, code: 'E_NOT_IN_ROUND' });
    expectNoCharge(rogue, before);
  });

  it('a substituted reveal (the server steering the seed): every member refuses E_SEED_REVEAL_MISMATCH', async () => {
    rogue = new RogueAggregator(N, DISTRIBUTED_TERMS);
    const plan = await acceptAll(rogue);
    const before = snapshot(rogue);
    const out = await rogue.runRound(plan, rogue.sites, (stage, _id, m) =>
      stage === 'seed-reveals'
        ? {
            ...(m as SeedReveals),
            reveals: (m as SeedReveals).reveals.map((r, i) => (i === 4 ? { ...r, value: new Uint8Array(32) } : r)),
          }
        : m,
    );
    expect(out.status).toBe('aborted');
    for (const s of rogue.sites) {
      expect(replyTo(s, 'secagg:advertise'), s.siteId).toMatchObject({ ok: false, code: 'E_SEED_REVEAL_MISMATCH' });
    }
    expectNoCharge(rogue, before);
  }, 120_000);

  it('different commitment lists for two halves: no member accepts keys bound to the other list', async () => {
    rogue = new RogueAggregator(N, DISTRIBUTED_TERMS);
    const plan = await acceptAll(rogue);
    const before = snapshot(rogue);
    const left = new Set(rogue.sites.slice(0, 8).map((s) => s.siteId));
    const hidden = rogue.sites[15].siteId;
    const out = await rogue.runRound(plan, rogue.sites, (stage, id, m) => {
      if (stage === 'seed-commitments' && left.has(id)) {
        const list = m as SeedCommitments;
        return { ...list, commitments: list.commitments.filter((c) => c.clientId !== hidden) };
      }
      if (stage === 'seed-reveals' && left.has(id)) return withhold(hidden)(stage, id, m);
      if (stage === 'key-roster') {
        // forward every neighbour's advertisement, from both halves (the left half's, refused by the server, are
        // listed absent), so the two graphs would have to interoperate
        const all = rogue!.sites
          .map((s) => replyTo(s, 'secagg:advertise') as AdvertiseKeys)
          .filter((a) => a?.stage === 'advertise-keys');
        expect(all).toHaveLength(N); // both halves finished the flip, each with its own seed
        const roster = m as KeyRoster;
        const neighbourhood = new Set([...roster.advertisements.map((a) => a.clientId), ...roster.absent]);
        return { ...roster, advertisements: all.filter((a) => neighbourhood.has(a.clientId)), absent: [] };
      }
      return m;
    });
    expect(out.status).toBe('aborted');
    for (const s of rogue.sites) {
      // the left half's keys fail the server's own check; the right half refuses the left half's keys
      const code = left.has(s.siteId)
        ? out.errors.get(s.siteId)
        : (replyTo(s, 'secagg:key-roster') as { code?: string }).code;
      expect(code, s.siteId).toBe('E_BAD_SIGNATURE');
    }
    expectNoCharge(rogue, before);
  }, 120_000);

  it('a withheld reveal aborts the round: E_SEED_REVEAL_MISSING at every member, no charge', async () => {
    rogue = new RogueAggregator(N, DISTRIBUTED_TERMS);
    const plan = await acceptAll(rogue);
    const before = snapshot(rogue);
    const out = await rogue.runRound(plan, rogue.sites, withhold(rogue.sites[3].siteId));
    expect(out.status).toBe('aborted');
    for (const s of rogue.sites) {
      expect(replyTo(s, 'secagg:advertise'), s.siteId).toMatchObject({ ok: false, code: 'E_SEED_REVEAL_MISSING' });
    }
    expectNoCharge(rogue, before);
  }, 120_000);

  it('R = 3 aborted rounds in a row stop the agent (E_TOO_MANY_ABORTS); a released round resets the count', async () => {
    rogue = new RogueAggregator(N, DISTRIBUTED_TERMS);
    const r = rogue;
    const abortedRound = async () => {
      const plan = await acceptAll(r);
      expect((await r.runRound(plan, r.sites, withhold(r.sites[5].siteId))).status).toBe('aborted');
    };
    const stopped = r.sites.map((s) =>
      s.runtime.done.then(
        () => 'finished',
        (e: { code?: string }) => e.code,
      ),
    );
    // two aborts, a released round, two aborts: the count restarts, every agent still takes plans
    await abortedRound();
    await abortedRound();
    const honest = await acceptAll(r);
    expect((await r.runRound(honest)).status).toBe('done');
    await abortedRound();
    await abortedRound();
    for (const s of r.sites)
      expect(s.events.some((e) => e.type === 'error' && e.code === 'E_TOO_MANY_ABORTS')).toBe(false);
    const before = snapshot(r);
    // the third abort in a row: every agent stops with the code, and refuses the next plan with it
    await abortedRound();
    const settled = await Promise.race([
      Promise.all(stopped),
      new Promise((resolve) => setTimeout(() => resolve('still running'), 2000)),
    ]);
    expect(settled).toEqual(r.sites.map(() => 'E_TOO_MANY_ABORTS'));
    for (const s of r.sites) {
      expect(s.events.some((e) => e.type === 'error' && e.code === 'E_TOO_MANY_ABORTS')).toBe(true);
    }
    const next = r.validPlan();
    for (const s of r.sites) {
      expect(await r.ask(s, 'round:plan', r.sign(next))).toMatchObject({ ok: false, code: 'E_TOO_MANY_ABORTS' });
    }
    expectNoCharge(r, before);
    for (const s of r.sites) expect(s.budget.lastChargedRound()).toBe(3); // only the released round was charged
  }, 240_000);
});
