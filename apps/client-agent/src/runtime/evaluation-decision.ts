/**
 * The site's decision on an evaluation plan (a plan with an `evaluation` block, libs/protocol events/evaluation.ts),
 * part of the one plan decision (plan-decision.ts#decidePlan, which has already checked the pinned terms, the
 * round order, the roster and the SecAgg+ shape). The aggregator may be hostile: the validation split must be the
 * one the site pinned at enrollment (moving records between training and validation would void the max rule the
 * site's accounting uses), and every derived number (vector shape, sensitivity, clamp, noise variance, honest
 * shares, modulus) is recomputed here from the pinned terms and the checkable plan fields.
 */
import type { Phase } from '@concord/dp';
import { distributedShareVariance } from '@concord/dp';
import {
  evaluationClamp,
  evaluationSensitivity,
  evaluationShapeOf,
  evaluationVectorLength,
  MAX_MODULUS_BITS,
  planModulusBits,
  type PrivacyTerms,
  type TrainingPlan,
  type ValidationSplit,
} from '@concord/protocol';

/** What the site runs for an evaluation plan (evaluate-and-encode.ts) and what it is charged for (chargeOfEvaluation). */
export interface EvaluationExecution {
  mode: 'evaluation';
  privacyMode: 'local' | 'distributed' | 'none';
  validation: ValidationSplit;
  classes: number;
  scoreBins: number;
  lossClip: number;
  noiseMultiplier: number;
  sensitivity: number;
  scaleBits: number;
  clamp: number;
  /** this site's discrete Gaussian variance in grid units (local: its whole noise; distributed: its share) */
  localNoiseVariance: number;
  honestShares: number;
  vectorLength: number;
}

type Refuse = (code: 'E_TERMS_VALIDATION' | 'E_PLAN_DERIVED' | 'E_UNSUPPORTED_PLAN', message: string) => never;

export function evaluationExecutionOf(plan: TrainingPlan, terms: PrivacyTerms, refuse: Refuse): EvaluationExecution {
  const e = plan.evaluation;
  if (!e) throw new Error('unreachable: not an evaluation plan');
  const pinned = terms.validation;
  if (!pinned) refuse('E_TERMS_VALIDATION', 'this site pinned no validation split: it does not evaluate');
  if (pinned.fraction !== e.validation.fraction || pinned.seed !== e.validation.seed) {
    refuse(
      'E_TERMS_VALIDATION',
      `plan validation split (${e.validation.fraction}, seed ${e.validation.seed}) differs from the pinned (${pinned.fraction}, seed ${pinned.seed})`,
    );
  }
  const expect = (field: string, planned: number, derived: number) => {
    if (planned !== derived) refuse('E_PLAN_DERIVED', `evaluation.${field} is ${planned}, the site derives ${derived}`);
  };
  const n = plan.roster.length;
  const shape = evaluationShapeOf(plan.model.spec);
  expect('classes', e.classes, shape.classes);
  expect('scoreBins', e.scoreBins, shape.scoreBins);
  const sensitivity = evaluationSensitivity(e.scoreBins);
  const vectorLength = evaluationVectorLength(e.classes, e.scoreBins);
  expect('sensitivity', e.sensitivity, sensitivity);
  expect('vectorLength', e.vectorLength, vectorLength);
  expect('secagg.vectorLength', plan.secagg.vectorLength, vectorLength);
  expect('clamp', e.clamp, evaluationClamp(n, e.scaleBits));
  const mode = terms.mode;
  if (mode === 'none' ? e.noiseMultiplier !== 0 : !(e.noiseMultiplier > 0)) {
    refuse('E_UNSUPPORTED_PLAN', `evaluation.noiseMultiplier ${e.noiseMultiplier} is not valid in mode ${mode}`);
  }
  const t = plan.secagg.threshold;
  const c = mode === 'distributed' ? terms.maxColluders : 0;
  const localNoiseVariance =
    mode === 'none'
      ? 0
      : distributedShareVariance({
          noiseMultiplier: e.noiseMultiplier,
          clipNorm: sensitivity,
          scaleBits: e.scaleBits,
          // local mode: the site's own noise carries the whole multiplier (one honest share: itself)
          threshold: mode === 'distributed' ? t : 1,
          maxColluders: c,
        });
  expect('localNoiseVariance', e.localNoiseVariance, localNoiseVariance);
  const honestShares = mode === 'distributed' ? t - c : 1;
  expect('minNoisyClients', e.minNoisyClients, honestShares);
  const bits = planModulusBits(plan);
  if (bits > MAX_MODULUS_BITS) refuse('E_PLAN_DERIVED', `the evaluation sum needs ${bits} bits, more than 32`);
  expect('secagg.modulusBits', plan.secagg.modulusBits, bits);
  return {
    mode: 'evaluation',
    privacyMode: mode,
    validation: pinned,
    classes: e.classes,
    scoreBins: e.scoreBins,
    lossClip: e.lossClip,
    noiseMultiplier: e.noiseMultiplier,
    sensitivity,
    scaleBits: e.scaleBits,
    clamp: e.clamp,
    localNoiseVariance,
    honestShares,
    vectorLength,
  };
}

/**
 * The charge of an evaluation: the Gaussian mechanism once on the whole validation split (rate 1, one step),
 * sensitivity = the vector's. Local mode adds a discrete Gaussian of std z x sensitivity (grid units) to an
 * integer-valued vector, which is (1/(2 z^2))-zCDP like the continuous one (Canonne, Kamath, Steinke 2020, Theorem
 * 14), so the continuous Gaussian RDP alpha / (2 z^2) is charged; distributed mode is the distributed discrete
 * Gaussian with t - c honest shares, as a training round. Marked `use: 'evaluation'` (the max rule).
 */
export function chargeOfEvaluation(x: EvaluationExecution): Phase | null {
  if (x.privacyMode === 'none') return null;
  const base = { sampleRate: 1, noiseMultiplier: x.noiseMultiplier, steps: 1, use: 'evaluation' as const };
  if (x.privacyMode === 'local') return base;
  return {
    ...base,
    mechanism: {
      kind: 'distributed-discrete-gaussian',
      l2Clip: x.sensitivity,
      granularity: 2 ** -x.scaleBits,
      dimension: x.vectorLength,
      roundingBias: 0,
      localSigma: Math.sqrt(x.localNoiseVariance),
      minClients: x.honestShares,
    },
  };
}
