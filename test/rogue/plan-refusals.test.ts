/**
 * A rogue aggregator (it holds the aggregator's signing key: every plan below is validly signed) against real
 * agents (agent runtime, file-backed ledger, real SecAgg+ clients, native trainer). Each attack must end in a coded
 * refusal: the plan's only answer is the refusal, no round starts, and the site's ledger file is byte-identical.
 * Findings of issue 15 covered here: 1 (mode none accepted by a DP site), 2 (derived fields taken on faith),
 * 4 (a malformed share route charged), and the plan-order and roster attacks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingPlan } from '@concord/protocol';
import { DISTRIBUTED_TERMS, LOCAL_TERMS, RogueAggregator, type RogueSite } from './harness.js';

type Mutable = Record<string, unknown>;
const clone = (plan: TrainingPlan): TrainingPlan => structuredClone(plan);
const distributedOf = (plan: TrainingPlan) => (plan.privacy as { distributed: Mutable }).distributed;

/** Sends a crafted plan to `site`; expects the refusal `code` as its only answer and an unchanged ledger. */
async function expectRefused(rogue: RogueAggregator, site: RogueSite, plan: TrainingPlan, code: string) {
  const ledgerBefore = rogue.ledgerBytes(site);
  const repliesBefore = site.replies.length;
  const reply = await rogue.ask(site, 'round:plan', rogue.sign(plan));
  expect(reply).toMatchObject({ ok: false, code });
  expect(site.replies.length).toBe(repliesBefore + 1);
  // no round was started: the next SecAgg+ request for that round finds nothing to answer with
  const advertise = await rogue.ask(site, 'secagg:seed-commit', {
    federationId: plan.federationId,
    roundId: plan.roundId,
  });
  expect(advertise).toMatchObject({ ok: false, code: 'E_NOT_IN_ROUND' });
  expect(rogue.ledgerBytes(site)).toBe(ledgerBefore);
}

describe('rogue aggregator, distributed federation (pinned c = 1)', () => {
  let rogue: RogueAggregator;
  let target: RogueSite;

  beforeAll(async () => {
    rogue = new RogueAggregator(10, DISTRIBUTED_TERMS);
    target = rogue.sites[0];
    // one honest round first, so the ledger holds a real charge the attacks below must not touch
    const plan = rogue.validPlan();
    for (const s of rogue.sites) expect(await rogue.ask(s, 'round:plan', rogue.sign(plan))).toEqual({ ok: true });
    const out = await rogue.runRound(plan);
    expect(out.status).toBe('done');
    expect(target.budget.history).toHaveLength(1);
    expect(target.budget.lastChargedRound()).toBe(1);
  }, 120_000);
  afterAll(() => rogue?.close());

  it('accepts the valid plan the attacks perturb', async () => {
    const plan = rogue.validPlan();
    expect(await rogue.ask(target, 'round:plan', rogue.sign(plan))).toEqual({ ok: true });
    target.runtime.connectionLost(); // drop that round
  });

  it('finding 1: a mode switch to none (or local) is refused (E_TERMS_MODE)', async () => {
    const none = { ...clone(rogue.validPlan()), privacy: { mode: 'none' as const, batchSize: 8, steps: 2 } };
    none.secagg = { ...none.secagg, vectorLength: 15 };
    await expectRefused(rogue, target, none, 'E_TERMS_MODE');
    const local = clone(rogue.validPlan());
    local.privacy = { mode: 'local', sampleRate: 0.1, noiseMultiplier: 1, steps: 1, clipNorm: 1, delta: 1e-5 };
    local.secagg = { ...local.secagg, vectorLength: 15 };
    await expectRefused(rogue, target, local, 'E_TERMS_MODE');
  });

  it('changed delta, accountant or clip norm is refused', async () => {
    const delta = clone(rogue.validPlan());
    (delta.privacy as Mutable).delta = 1e-3;
    await expectRefused(rogue, target, delta, 'E_TERMS_DELTA');
    const accountant = clone(rogue.validPlan());
    delete (accountant.privacy as Mutable).accountant;
    await expectRefused(rogue, target, accountant, 'E_TERMS_ACCOUNTANT');
    const clip = clone(rogue.validPlan());
    (clip.privacy as Mutable).clipNorm = 2;
    await expectRefused(rogue, target, clip, 'E_TERMS_CLIP');
  });

  it('finding 2: a roster of 2 claiming 10,000 noisy clients is refused (E_PLAN_DERIVED)', async () => {
    const two = rogue.sites.slice(0, 2);
    const plan = clone(rogue.validPlan(two));
    const d = distributedOf(plan);
    const central = 1 * 1 * 2 ** 10;
    Object.assign(d, { minNoisyClients: 10_000, cohortSize: 10_000, localNoiseVariance: (central * central) / 10_000 });
    await expectRefused(rogue, target, plan, 'E_PLAN_DERIVED');
  });

  for (const field of ['minNoisyClients', 'localNoiseVariance', 'cohortSize', 'dimension'] as const) {
    for (const [how, factor] of [
      ['inflated', 2],
      ['deflated', 0.5],
    ] as const) {
      it(`derived field ${field} ${how} is refused (E_PLAN_DERIVED)`, async () => {
        const plan = clone(rogue.validPlan());
        const d = distributedOf(plan);
        const value = d[field] as number;
        d[field] = field === 'localNoiseVariance' ? value * factor : Math.max(1, Math.round(value * factor));
        await expectRefused(rogue, target, plan, 'E_PLAN_DERIVED');
      });
    }
  }

  it('a SecAgg+ modulus other than the derived one is refused (E_PLAN_DERIVED; issue 20)', async () => {
    for (const delta of [-1, -8]) {
      // narrower wraps the sum (this plan's clamp fills 32 bits, the widest a plan may name)
      const both = clone(rogue.validPlan());
      both.secagg.modulusBits += delta;
      distributedOf(both).modulusBits = both.secagg.modulusBits;
      await expectRefused(rogue, target, both, 'E_PLAN_DERIVED');
    }
    const split = clone(rogue.validPlan()); // the receipt's modulus and the one SecAgg+ sums in must be one number
    distributedOf(split).modulusBits = split.secagg.modulusBits - 1;
    await expectRefused(rogue, target, split, 'E_PLAN_DERIVED');
  });

  it('a threshold, neighbours or roster inconsistent with each other is refused', async () => {
    const low = clone(rogue.validPlan()); // k = 8, t = 5: a valid SecAgg+ shape, but 2t-(k+1) = 1 <= c
    low.secagg.neighbours = 8;
    low.secagg.threshold = 5;
    distributedOf(low).minNoisyClients = 4;
    await expectRefused(rogue, target, low, 'E_COLLUSION_BOUND');
    const majority = clone(rogue.validPlan()); // k = 9, t = 5: not even a majority of each neighbourhood
    majority.secagg.threshold = 5;
    await expectRefused(rogue, target, majority, 'E_SECAGG_SHAPE');
    const high = clone(rogue.validPlan());
    high.secagg.threshold = 11;
    await expectRefused(rogue, target, high, 'E_SECAGG_SHAPE');
    const wide = clone(rogue.validPlan());
    wide.secagg.neighbours = 12;
    await expectRefused(rogue, target, wide, 'E_SECAGG_SHAPE');
    const odd = clone(rogue.validPlan());
    odd.secagg.neighbours = 7;
    odd.secagg.threshold = 6;
    await expectRefused(rogue, target, odd, 'E_SECAGG_SHAPE');
    const short = clone(rogue.validPlan()); // roster of 10 cut to 9 while the shape and cohortSize say 10
    short.roster = short.roster.slice(0, 9);
    await expectRefused(rogue, target, short, 'E_SECAGG_SHAPE');
  });

  it('a roster listing the site twice is refused (E_ROSTER_DUPLICATE)', async () => {
    const plan = clone(rogue.validPlan());
    plan.roster[1] = { ...plan.roster[0] };
    await expectRefused(rogue, target, plan, 'E_ROSTER_DUPLICATE');
    const sameKey = clone(rogue.validPlan());
    sameKey.roster[1] = { ...sameKey.roster[1], identityPublicKey: sameKey.roster[0].identityPublicKey };
    await expectRefused(rogue, target, sameKey, 'E_ROSTER_DUPLICATE');
  });

  it('issue 16: a peer key of small order or in a second base64 spelling is refused (E_KEY_*)', async () => {
    // the identity point: with it the trivial signature verifies every transcript for that peer
    const identityPoint = Buffer.from('01' + '00'.repeat(31), 'hex').toString('base64');
    const small = clone(rogue.validPlan());
    small.roster[1] = { ...small.roster[1], identityPublicKey: identityPoint };
    await expectRefused(rogue, target, small, 'E_KEY_SMALL_ORDER');
    const unpadded = clone(rogue.validPlan());
    unpadded.roster[1] = {
      ...unpadded.roster[1],
      identityPublicKey: unpadded.roster[1].identityPublicKey.replace(/=+$/, ''),
    };
    await expectRefused(rogue, target, unpadded, 'E_KEY_ENCODING');
  });

  it('replayed, reordered and duplicated rounds are refused', async () => {
    const plan = rogue.validPlan();
    expect(await rogue.ask(target, 'round:plan', rogue.sign(plan))).toEqual({ ok: true });
    target.runtime.connectionLost();
    await expectRefused(rogue, target, plan, 'E_REPLAY'); // the same round again
    const older = clone(rogue.validPlan());
    older.roundNumber = plan.roundNumber - 1; // reordered: older than one already accepted
    await expectRefused(rogue, target, older, 'E_ROUND_ORDER');
    const charged = clone(rogue.validPlan());
    charged.roundNumber = 1; // the round this site charged in beforeAll, under a fresh round id
    await expectRefused(rogue, target, charged, 'E_ROUND_ORDER');
  });

  it('a fresh agent on the same ledger refuses a round at or below the last one it charged (E_ROUND_ORDER)', async () => {
    const { FileBudgetGuard } = await import('../../apps/client-agent/src/services/budget/file-budget-guard.js');
    const reopened = FileBudgetGuard.open({
      stateDir: target.stateDir,
      cap: target.budget.cap,
      identityPublicKey: target.publicKey,
    });
    expect(reopened.lastChargedRound()).toBe(1);
  });

  it('finding 4: a malformed share route charges nothing, and the valid round then charges once', async () => {
    const plan = rogue.validPlan();
    for (const s of rogue.sites) expect(await rogue.ask(s, 'round:plan', rogue.sign(plan))).toEqual({ ok: true });
    const before = rogue.ledgerBytes(target);
    const out = await rogue.runRound(plan, rogue.sites, (stage, siteId, message) =>
      stage === 'share-route' && siteId === target.siteId
        ? { ...(message as Mutable), shares: [] } // the target's own bundle and its neighbours' are withheld
        : message,
    );
    expect(out.errors.get(target.siteId)).toBe('E_INCONSISTENT_DROPS');
    expect(rogue.ledgerBytes(target)).toBe(before);
    const other = rogue.sites[1];
    expect(other.budget.lastChargedRound()).toBe(plan.roundNumber); // the others were charged and sent
  });

  it('a survivor set below t is refused by every agent (E_TOO_FEW_SURVIVORS)', async () => {
    const plan = rogue.validPlan();
    for (const s of rogue.sites) expect(await rogue.ask(s, 'round:plan', rogue.sign(plan))).toEqual({ ok: true });
    const t = plan.secagg.threshold;
    const out = await rogue.runRound(plan, rogue.sites, (stage, _siteId, message) => {
      if (stage !== 'consistency-request') return message;
      const m = message as { survivors: string[] };
      // keep the addressed site in the list (else it refuses for omitting itself), t - 1 members in all
      const keep = m.survivors.filter((id) => id === _siteId).concat(m.survivors.filter((id) => id !== _siteId));
      return { ...m, survivors: keep.slice(0, t - 1).sort() };
    });
    expect(out.status).toBe('aborted');
    for (const s of rogue.sites) expect(out.errors.get(s.siteId)).toBe('E_TOO_FEW_SURVIVORS');
  });
});

describe('rogue aggregator, local federation with the PRV accountant', () => {
  let rogue: RogueAggregator;
  beforeAll(() => {
    rogue = new RogueAggregator(3, { ...LOCAL_TERMS, accountant: 'prv' }, { accountant: 'prv' });
  });
  afterAll(() => rogue?.close());

  it('accepts its own terms and refuses an rdp plan or a none plan', async () => {
    const site = rogue.sites[0];
    expect(await rogue.ask(site, 'round:plan', rogue.sign(rogue.validPlan()))).toEqual({ ok: true });
    site.runtime.connectionLost();
    const rdp = clone(rogue.validPlan());
    (rdp.privacy as Mutable).accountant = 'rdp';
    await expectRefused(rogue, site, rdp, 'E_TERMS_ACCOUNTANT');
    const none = clone(rogue.validPlan());
    none.privacy = { mode: 'none', batchSize: 8, steps: 2 };
    await expectRefused(rogue, site, none, 'E_TERMS_MODE');
  });

  it('an agent composing with another accountant than the pinned one refuses every plan', async () => {
    const mismatched = new RogueAggregator(3, { ...LOCAL_TERMS, accountant: 'prv' }, { accountant: 'rdp' });
    try {
      const plan = mismatched.validPlan();
      await expectRefused(mismatched, mismatched.sites[0], plan, 'E_TERMS_ACCOUNTANT');
    } finally {
      mismatched.close();
    }
  });
});
