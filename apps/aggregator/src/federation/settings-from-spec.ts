import { resolveTrainingPlan, type ResolvedTrainingPlan } from '@concord/fedopt';
import { FederationSpecError, parseFederationSpec } from '@concord/protocol';
import { DEFAULT_BIT_COUNT, MAX_BITS_PER_DIMENSION } from '@concord/watermark';
import { evaluationSettingsOf } from './evaluation-settings.js';
import { sizeWordsFromData } from './sized-words.js';
import { FederationSettingsSchema, type FederationSettings } from './settings.js';

export interface EngineTimeouts {
  planMs: number;
  stageMs: number;
  trainingMs: number;
}

export const DEFAULT_TIMEOUTS: EngineTimeouts = { planMs: 30_000, stageMs: 30_000, trainingMs: 300_000 };

/**
 * An operator's federation spec (YAML/JSON object, libs/protocol federation-spec.ts) resolved with the tuned
 * defaults and the noise calibration of libs/fedopt, in the form the round engine runs.
 */
export function settingsFromSpec(
  specInput: unknown,
  o: { cohortSize?: number; timeouts?: EngineTimeouts } = {},
): { settings: FederationSettings; resolved: ResolvedTrainingPlan } {
  const spec = parseFederationSpec(specInput);
  const resolved = resolveTrainingPlan(spec, o.cohortSize ? { cohortSize: o.cohortSize } : {});
  assertWatermarkFits(spec.watermark.enabled, resolved.model.inputSize);
  assertCohortCanStart(resolved);
  const stored = { ...settingsFromResolved(resolved, o.timeouts ?? DEFAULT_TIMEOUTS), dataset: spec.dataset };
  // issue 20: an operator who states the records per site gets words sized from the data, as simulate does
  const recordsPerSite = spec.encoding.recordsPerSite;
  const settings = recordsPerSite === undefined ? stored : sizeWordsFromData(stored, recordsPerSite, spec);
  return { settings: { ...settings, evaluation: evaluationSettingsOf(settings, spec.evaluation) }, resolved };
}

/** A federation whose minSites exceeds its cohort size would wait forever: refuse it at creation instead. */
function assertCohortCanStart(resolved: ResolvedTrainingPlan): void {
  if (resolved.minSites <= resolved.cohortSize) return;
  throw new FederationSpecError([
    {
      path: 'cohort.minSites',
      message: `${resolved.minSites} exceeds the cohort size ${resolved.cohortSize}: no round could ever start (set cohort.size >= cohort.minSites)`,
    },
  ]);
}

/**
 * The owner watermark (DEFAULT_BIT_COUNT bits) is carried by the first layer; a model too narrow for it would be
 * accepted, trained and charged, and then fail at its first release. Refuse such a spec up front instead.
 */
function assertWatermarkFits(enabled: boolean, inputSize: number): void {
  const capacity = Math.floor(MAX_BITS_PER_DIMENSION * inputSize);
  if (!enabled || DEFAULT_BIT_COUNT <= capacity) return;
  throw new FederationSpecError([
    {
      path: 'watermark.enabled',
      message:
        `the owner watermark needs ${DEFAULT_BIT_COUNT} bits and a first layer of ${inputSize} inputs carries at most ` +
        `${capacity}: use a model with at least ${Math.ceil(DEFAULT_BIT_COUNT / MAX_BITS_PER_DIMENSION)} inputs or set watermark.enabled: false`,
    },
  ]);
}

export function settingsFromResolved(plan: ResolvedTrainingPlan, timeouts: EngineTimeouts): FederationSettings {
  const p = plan.privacy;
  const privacy: FederationSettings['privacy'] =
    p.mode === 'none'
      ? { mode: 'none', batchSize: p.batchSize, steps: p.localSteps }
      : p.mode === 'local'
        ? {
            mode: 'local',
            sampleRate: p.sampleRate,
            noiseMultiplier: p.noiseMultiplier,
            steps: p.localSteps,
            clipNorm: p.clipNorm,
            delta: p.delta,
            accountant: p.accountant,
          }
        : {
            mode: 'distributed',
            sampleRate: p.sampleRate,
            noiseMultiplier: p.noiseMultiplier,
            clipNorm: p.clipNorm,
            delta: p.delta,
            scaleBits: p.scaleBits,
            countWeight: p.countWeight,
            roundingBeta: p.roundingBeta,
          };
  return FederationSettingsSchema.parse({
    model: plan.model,
    rounds: plan.rounds,
    cohort: {
      minSites: Math.max(plan.minSites, Math.min(plan.cohortSize, plan.secureAggregation.threshold)),
      maxSites: plan.cohortSize,
    },
    privacy,
    optimization: plan.local,
    server: {
      optimizer: plan.serverOptimizer.name,
      learningRate: plan.serverOptimizer.learningRate,
      momentum: plan.serverOptimizer.momentum,
      secondMomentDecay: plan.serverOptimizer.secondMomentDecay,
      adaptivity: plan.serverOptimizer.adaptivity,
    },
    preprocess: plan.preprocess,
    encoding: plan.encoding,
    timeouts,
    watermark: plan.watermark,
    secaggNeighbours: plan.secureAggregation.neighbours,
    secaggThreshold: plan.secureAggregation.threshold,
    secaggMaxColluders: plan.secureAggregation.maxColluders,
  });
}
