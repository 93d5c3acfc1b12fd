/**
 * Evaluation requests are plans (issue 17): real agents (runtime, file ledger, SecAgg+, native predict) decide them
 * in their one plan decision. A valid evaluation plan runs a whole SecAgg+ round whose sum is the sites' count
 * vectors plus the accounted noise, and each site charges it as an evaluation (the max rule); a rogue aggregator's
 * other split, tampered derived fields, a noiseless request and an unaffordable one are each refused with a code
 * and leave the ledger untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeEpsilon, distributedShareVariance } from '@concord/dp';
import {
  decodeEvaluationSum,
  evaluationClamp,
  evaluationCoordinateStd,
  evaluationLayout,
  evaluationSensitivity,
  planModulusBits,
  type PrivacyTerms,
  type TrainingPlan,
} from '@concord/protocol';
import { splitValidation } from '../../apps/client-agent/src/index.js';
import { FileBudgetGuard } from '../../apps/client-agent/src/services/budget/file-budget-guard.js';
import { DISTRIBUTED_TERMS, LOCAL_TERMS, MODEL, RogueAggregator, type RogueSite } from './harness.js';

const SPLIT = { fraction: 0.25, seed: 7 };
type Mutable = Record<string, unknown>;

/** A valid evaluation plan for the rogue's federation, derived as the aggregator's evaluation-plan.ts derives it. */
function evaluationPlan(rogue: RogueAggregator, z = 4): TrainingPlan {
  const plan = rogue.validPlan();
  const n = plan.roster.length;
  const classes = MODEL.layers[0].units;
  const sensitivity = evaluationSensitivity(0);
  const scaleBits = 8;
  const t = rogue.terms;
  const distributed = t.mode === 'distributed';
  const evaluation = {
    modelVersion: 1,
    validation: SPLIT,
    classes,
    scoreBins: 0,
    lossClip: 5,
    noiseMultiplier: z,
    sensitivity,
    vectorLength: evaluationLayout(classes, 0).length,
    scaleBits,
    clamp: evaluationClamp(n, scaleBits),
    localNoiseVariance: distributedShareVariance({
      noiseMultiplier: z,
      clipNorm: sensitivity,
      scaleBits,
      threshold: distributed ? plan.secagg.threshold : 1,
      maxColluders: distributed ? t.maxColluders : 0,
    }),
    minNoisyClients: distributed ? plan.secagg.threshold - t.maxColluders : 1,
  };
  const out = { ...plan, evaluation, secagg: { ...plan.secagg, vectorLength: evaluation.vectorLength } };
  out.secagg.modulusBits = planModulusBits(out);
  return out;
}

async function expectRefused(rogue: RogueAggregator, site: RogueSite, plan: TrainingPlan, code: string) {
  const before = rogue.ledgerBytes(site);
  expect(await rogue.ask(site, 'round:plan', rogue.sign(plan))).toMatchObject({ ok: false, code });
  expect(rogue.ledgerBytes(site)).toBe(before);
}

for (const [name, base] of [
  ['local', LOCAL_TERMS],
  ['distributed', DISTRIBUTED_TERMS],
] as const) {
  describe(`evaluation plans, ${name} mode`, () => {
    const terms = { ...base, validation: SPLIT } as PrivacyTerms;
    let rogue: RogueAggregator;
    beforeAll(() => {
      rogue = new RogueAggregator(5, terms, { records: 200 });
    });
    afterAll(() => rogue?.close());

    it('a valid evaluation round sums the count vectors with the accounted noise and charges an evaluation', async () => {
      const plan = evaluationPlan(rogue);
      for (const s of rogue.sites) expect(await rogue.ask(s, 'round:plan', rogue.sign(plan))).toEqual({ ok: true });
      const out = await rogue.runRound(plan);
      expect(out.status).toBe('done');
      const e = plan.evaluation!;
      const sum = decodeEvaluationSum(out.sum!, e.scaleBits);
      const layout = evaluationLayout(e.classes, 0);
      const held = rogue.sites.map((s) => splitValidation(s.data, { identitySeed: s.seed }, SPLIT).validation!.count);
      const records = held.reduce((a, b) => a + b, 0);
      expect(records).toBeGreaterThan(0.15 * 1000);
      expect(records).toBeLessThan(0.35 * 1000);
      const std = evaluationCoordinateStd(e, out.survivors!.length);
      expect(Math.abs(sum[layout.count] - records)).toBeLessThan(6 * std);
      // confusion cells add up to the count (each up to its noise)
      let cells = 0;
      for (let j = 0; j < e.classes * e.classes; j++) cells += sum[j];
      expect(Math.abs(cells - records)).toBeLessThan(6 * std * e.classes);
      for (const s of rogue.sites) {
        const last = s.budget.history.at(-1)!.phase;
        expect(last).toMatchObject({ sampleRate: 1, steps: 1, noiseMultiplier: 4, use: 'evaluation' });
        // the max rule: an evaluation alone is what the site has spent
        expect(s.budget.spent()).toBeCloseTo(computeEpsilon([{ ...last, use: undefined }], 1e-5).epsilon, 9);
        // the evaluation charge survives a restart of the agent (the local ledger file reloads it)
        const reopened = FileBudgetGuard.open({
          stateDir: s.stateDir,
          cap: s.budget.cap,
          identityPublicKey: s.publicKey,
        });
        expect(reopened.history.at(-1)!.phase).toEqual(last);
        expect(reopened.spent()).toBe(s.budget.spent());
      }
    }, 120_000);

    it('another validation split is refused (E_TERMS_VALIDATION): records must never change sides', async () => {
      for (const validation of [
        { fraction: 0.3, seed: 7 },
        { fraction: 0.25, seed: 8 },
      ]) {
        const plan = evaluationPlan(rogue);
        plan.evaluation!.validation = validation;
        await expectRefused(rogue, rogue.sites[0], plan, 'E_TERMS_VALIDATION');
      }
    });

    it('each tampered derived field is refused (E_PLAN_DERIVED)', async () => {
      const tamper: [string, (e: Mutable, plan: TrainingPlan) => void][] = [
        ['sensitivity', (e) => (e.sensitivity = 1)],
        ['localNoiseVariance', (e) => (e.localNoiseVariance = (e.localNoiseVariance as number) / 4)],
        ['minNoisyClients', (e) => (e.minNoisyClients = (e.minNoisyClients as number) + 1)],
        ['clamp', (e) => (e.clamp = (e.clamp as number) * 4)],
        ['classes', (e) => (e.classes = 2)],
        ['scoreBins', (e) => (e.scoreBins = 20)],
        [
          'vectorLength',
          (e, plan) => {
            e.vectorLength = (e.vectorLength as number) - 1;
            plan.secagg.vectorLength -= 1;
          },
        ],
        ['secagg.modulusBits', (_e, plan) => (plan.secagg.modulusBits -= 2)],
      ];
      for (const [field, change] of tamper) {
        const plan = evaluationPlan(rogue);
        change(plan.evaluation as unknown as Mutable, plan);
        const before = rogue.ledgerBytes(rogue.sites[0]);
        const reply = await rogue.ask(rogue.sites[0], 'round:plan', rogue.sign(plan));
        expect(reply, field).toMatchObject({ ok: false });
        expect(['E_PLAN_DERIVED', 'E_BAD_MESSAGE'], field).toContain((reply as { code: string }).code);
        expect(rogue.ledgerBytes(rogue.sites[0])).toBe(before);
      }
    });

    it('a noiseless evaluation in a DP federation is refused (E_UNSUPPORTED_PLAN)', async () => {
      const plan = evaluationPlan(rogue);
      plan.evaluation!.noiseMultiplier = 0;
      plan.evaluation!.localNoiseVariance = 0;
      plan.secagg.modulusBits = planModulusBits(plan);
      await expectRefused(rogue, rogue.sites[0], plan, 'E_UNSUPPORTED_PLAN');
    });

    it('an evaluation the cap cannot pay for is refused (E_CAP_EXCEEDED)', async () => {
      const poor = new RogueAggregator(3, terms, { cap: { epsilon: 1, delta: 1e-5 } });
      try {
        await expectRefused(poor, poor.sites[0], evaluationPlan(poor, 0.5), 'E_CAP_EXCEEDED');
      } finally {
        poor.close();
      }
    });
  });
}

describe('a site that pinned no validation split', () => {
  it('refuses every evaluation plan (E_TERMS_VALIDATION)', async () => {
    const rogue = new RogueAggregator(3, LOCAL_TERMS);
    try {
      await expectRefused(rogue, rogue.sites[0], evaluationPlan(rogue), 'E_TERMS_VALIDATION');
    } finally {
      rogue.close();
    }
  });
});
