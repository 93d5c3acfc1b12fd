import { parameterCount } from '@concord/native/spec';
import { evaluationCount, defaultEvaluationNoise } from './evaluation-plan.js';
import type { FederationSettings } from './settings.js';
import { nextRoundPhase } from './stages/budget.js';

/** What an operator (spec `evaluation`) or simulate may set; everything else has a default. */
export interface EvaluationChoices {
  enabled?: boolean;
  every?: number;
  validationFraction?: number;
  seed?: number;
  noiseMultiplier?: number;
  lossClip?: number;
}

/**
 * Defaults, chosen so the evaluation is informative and costs no epsilon beyond the training's:
 * - every ceil(rounds / 3) versions, and the last (about three evaluations a federation);
 * - 20 % of each site's records held out for validation (docs/federation-spec.md gives the noise this leaves);
 * - loss clipped at 5 nats for the cross-entropy losses (a model whose mean loss is above that is not informative
 *   anyway) and at 1 for mse;
 * - z: the smallest multiplier under which the planned evaluations add no epsilon (evaluation-plan.ts
 *   defaultEvaluationNoise), in DP modes; 0 (no noise, no charge) in mode none.
 */
export const EVALUATION_DEFAULTS = Object.freeze({
  evaluations: 3,
  validationFraction: 0.2,
  seed: 0,
  crossEntropyLossClip: 5,
  mseLossClip: 1,
  /** the count vector's grid: 2^-8 of a count (the loss sum's resolution) */
  scaleBits: 8,
});

export function evaluationSettingsOf(
  settings: FederationSettings,
  choices: EvaluationChoices = {},
): FederationSettings['evaluation'] {
  if (choices.enabled === false) return undefined;
  const every = choices.every ?? Math.max(1, Math.ceil(settings.rounds / EVALUATION_DEFAULTS.evaluations));
  const partial = {
    every,
    validation: {
      fraction: choices.validationFraction ?? EVALUATION_DEFAULTS.validationFraction,
      seed: choices.seed ?? EVALUATION_DEFAULTS.seed,
    },
    lossClip:
      choices.lossClip ??
      (settings.model.loss === 'mse' ? EVALUATION_DEFAULTS.mseLossClip : EVALUATION_DEFAULTS.crossEntropyLossClip),
    scaleBits: EVALUATION_DEFAULTS.scaleBits,
  };
  const p = settings.privacy;
  if (p.mode === 'none') return { ...partial, noiseMultiplier: 0 };
  if (choices.noiseMultiplier !== undefined) return { ...partial, noiseMultiplier: choices.noiseMultiplier };
  const cohortSize = settings.cohort.maxSites;
  const parameters = parameterCount(settings.model);
  const withNoise = (z: number): FederationSettings => ({
    ...settings,
    evaluation: { ...partial, noiseMultiplier: z },
  });
  const noiseMultiplier = defaultEvaluationNoise({
    rounds: settings.rounds,
    evaluations: evaluationCount(settings.rounds, every),
    delta: p.delta,
    accountant: p.mode === 'local' ? (p.accountant ?? 'rdp') : 'rdp',
    trainingRound: nextRoundPhase(settings, cohortSize, parameters)!,
    evaluationRound: (z) => nextRoundPhase(withNoise(z), cohortSize, parameters, true)!,
  });
  return { ...partial, noiseMultiplier };
}
