import { computeEpsilon, distributedShareVariance, honestShareCount, type Phase } from '@concord/dp';
import {
  evaluationClamp,
  evaluationSensitivity,
  evaluationShapeOf,
  evaluationVectorLength,
  type EvaluationPlan,
} from '@concord/protocol';
import type { FederationSettings } from './settings.js';

/**
 * The `evaluation` block of an evaluation plan for a roster of `cohortSize` with SecAgg+ threshold t and c colluders.
 * Every number but the model version, the split, the loss clip, z and the scale is derived, and the agent recomputes
 * each one (apps/client-agent runtime/plan-decision.ts) from the same functions.
 */
export function evaluationPlanOf(
  settings: FederationSettings,
  o: { modelVersion: number; cohortSize: number; threshold: number; maxColluders: number },
): EvaluationPlan {
  const e = settings.evaluation;
  if (!e) throw new RangeError('settings: this federation has no evaluation');
  const { classes, scoreBins } = evaluationShapeOf(settings.model);
  const sensitivity = evaluationSensitivity(scoreBins);
  const mode = settings.privacy.mode;
  const noiseMultiplier = mode === 'none' ? 0 : e.noiseMultiplier;
  return {
    modelVersion: o.modelVersion,
    validation: e.validation,
    classes,
    scoreBins,
    lossClip: e.lossClip,
    noiseMultiplier,
    sensitivity,
    vectorLength: evaluationVectorLength(classes, scoreBins),
    scaleBits: e.scaleBits,
    clamp: evaluationClamp(o.cohortSize, e.scaleBits),
    // local mode: the site's own discrete Gaussian carries the whole multiplier (one honest share: itself)
    localNoiseVariance:
      mode === 'none'
        ? 0
        : distributedShareVariance({
            noiseMultiplier,
            clipNorm: sensitivity,
            scaleBits: e.scaleBits,
            threshold: mode === 'distributed' ? o.threshold : 1,
            maxColluders: mode === 'distributed' ? o.maxColluders : 0,
          }),
    minNoisyClients: mode === 'distributed' ? honestShareCount(o.threshold, o.maxColluders) : 1,
  };
}

/** Model versions evaluated: every `every`-th, and the last one (the federation's final model). */
export function isEvaluationDue(settings: Pick<FederationSettings, 'evaluation' | 'rounds'>, version: number): boolean {
  const e = settings.evaluation;
  if (!e || version < 1) return false;
  return version % e.every === 0 || version === settings.rounds;
}

/** How many evaluations a federation of `rounds` runs (isEvaluationDue over versions 1..rounds). */
export function evaluationCount(rounds: number, every: number): number {
  return Math.floor(rounds / every) + (rounds % every === 0 ? 0 : 1);
}

/**
 * The default evaluation noise multiplier: the smallest z (to 0.5 %) for which the federation's planned evaluations
 * add no epsilon to a site that takes part in every training round: by the max rule (libs/dp accountant.ts), the
 * evaluations' RDP curve then stays under the training curve where the training's epsilon is attained. A site in
 * fewer rounds is charged less for both, so its epsilon is no larger. `trainingRound` is one training round's phase
 * and `evaluationRound(z)` one evaluation's (the same plan builder and receipt terms the rounds use).
 */
export function defaultEvaluationNoise(o: {
  rounds: number;
  evaluations: number;
  delta: number;
  accountant: 'rdp' | 'prv';
  trainingRound: Phase;
  evaluationRound: (noiseMultiplier: number) => Phase;
}): number {
  const training: Phase = { ...o.trainingRound, steps: o.trainingRound.steps * o.rounds };
  const target = computeEpsilon([training], o.delta, { accountant: o.accountant }).epsilon;
  const free = (z: number) => {
    const one = o.evaluationRound(z);
    const history = [training, { ...one, steps: one.steps * o.evaluations, use: 'evaluation' as const }];
    return computeEpsilon(history, o.delta, { accountant: o.accountant }).epsilon <= target * (1 + 1e-9);
  };
  let high = 1;
  for (let i = 0; i < 40 && !free(high); i++) high *= 2;
  let low = high / 2;
  while (high / low > 1.005) {
    const mid = Math.sqrt(low * high);
    if (free(mid)) high = mid;
    else low = mid;
  }
  return Number(high.toPrecision(4));
}
