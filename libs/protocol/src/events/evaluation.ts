/**
 * Private federated evaluation: what an evaluation request carries, the fixed-length vector of counts each site
 * sums over its validation split, and how the aggregator turns the noisy SecAgg+ sum into metrics with their noise.
 *
 * One validation record adds, in count units (the vector is encoded on the 2^scaleBits grid like an update):
 * - 1 to one cell of the confusion matrix (true class x predicted class; `classes` x `classes` cells),
 * - 1 to `correct` when the prediction is right (a separate coordinate: the accuracy then carries one coordinate's
 *   noise, not the `classes` diagonal cells'),
 * - min(loss, lossClip) / lossClip in [0, 1] to the clipped loss sum,
 * - 1 to the record count,
 * - binary tasks: 1 to one cell of the score histogram (`scoreBins` bins of [0, 1], negatives then positives),
 *   enough for ROC AUC.
 * So one record moves the vector by at most sqrt(4) (sqrt(5) with the histogram) in L2: the Gaussian mechanism's
 * sensitivity, the same for adding or removing a record.
 */
import { z } from 'zod';
import type { TrainingPlan } from './plan.js';
import { receiptTermsOf } from './update-layout.js';
import type { FederationModelSchema } from '../federation-spec.js';

type ModelSpecWire = z.infer<typeof FederationModelSchema>;

/** The validation split a site pins at enrollment: the fraction of its records and the federation's split seed. */
export const ValidationSplitSchema = z
  .object({
    fraction: z.number().gt(0).max(0.5),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1),
  })
  .strict();
export type ValidationSplit = z.infer<typeof ValidationSplitSchema>;

/** The `evaluation` block of a plan: present, the plan asks the cohort to evaluate `model` instead of training it. */
export const EvaluationPlanSchema = z
  .object({
    /** the model version evaluated (its weights are the plan's model, bound by model.sha256) */
    modelVersion: z.number().int().min(0),
    validation: ValidationSplitSchema,
    /** 0: a regression model (no confusion counts) */
    classes: z.number().int().min(0).max(256),
    /** score histogram bins per label (binary tasks), 0 otherwise */
    scoreBins: z.number().int().min(0).max(256),
    lossClip: z.number().finite().gt(0).max(1e6),
    /** z: the summed vector carries Gaussian noise of std z x sensitivity per coordinate (0 only in mode none) */
    noiseMultiplier: z.number().finite().min(0).max(1e6),
    /** derived: sqrt(4), or sqrt(5) with a histogram */
    sensitivity: z.number().gt(0),
    /** derived: the vector's length (evaluationVectorLength) */
    vectorLength: z.number().int().min(1),
    scaleBits: z.number().int().min(0).max(24),
    /** derived: each coordinate of a site's vector is clamped to [-clamp, clamp] (overflow guard, as training) */
    clamp: z.number().gt(0),
    /**
     * derived: each site's discrete Gaussian variance in grid units: local mode (z x sensitivity x 2^scaleBits)^2,
     * distributed mode its share (z x sensitivity x 2^scaleBits)^2 / (t - c), mode none 0
     */
    localNoiseVariance: z.number().min(0),
    /** derived: shares guaranteed honest in the sum (distributed: t - c; otherwise 1) */
    minNoisyClients: z.number().int().min(1),
  })
  .strict();
export type EvaluationPlan = z.infer<typeof EvaluationPlanSchema>;

/** Classes and histogram bins of a model's evaluation vector. */
export function evaluationShapeOf(model: Pick<ModelSpecWire, 'loss' | 'layers'>): {
  classes: number;
  scoreBins: number;
} {
  const outputs = model.layers[model.layers.length - 1]?.units ?? 0;
  if (model.loss === 'mse') return { classes: 0, scoreBins: 0 };
  if (model.loss === 'sigmoid-binary-cross-entropy') return { classes: 2, scoreBins: DEFAULT_SCORE_BINS };
  return { classes: outputs, scoreBins: 0 };
}

/** Score histogram resolution for binary tasks: 20 bins of width 0.05 (ROC AUC from the bins, ties halved). */
export const DEFAULT_SCORE_BINS = 20;

/** Offsets of each part of the vector. */
export function evaluationLayout(classes: number, scoreBins: number) {
  if (!Number.isInteger(classes) || classes < 0) throw new RangeError('classes: expected an integer >= 0');
  if (!Number.isInteger(scoreBins) || scoreBins < 0) throw new RangeError('scoreBins: expected an integer >= 0');
  const confusion = 0;
  const correct = classes * classes;
  const lossSum = correct + 1;
  const count = lossSum + 1;
  const histogram = count + 1;
  return { confusion, correct, lossSum, count, histogram, length: histogram + 2 * scoreBins };
}

export function evaluationVectorLength(classes: number, scoreBins: number): number {
  return evaluationLayout(classes, scoreBins).length;
}

/** One record's largest L2 effect on the vector (module comment). */
export function evaluationSensitivity(scoreBins: number): number {
  return Math.sqrt(scoreBins > 0 ? 5 : 4);
}

export interface EvaluationMetrics {
  /** noisy record count (the sum of the validation splits of the sites in the sum) */
  records: number;
  accuracy?: number;
  loss: number;
  rocAuc?: number;
  /** standard deviation of each metric's noise (Monte Carlo over the stated coordinate noise, 400 draws) */
  std: { records: number; accuracy?: number; loss: number; rocAuc?: number };
  /** standard deviation of the noise on every coordinate of the summed vector, in count units */
  coordinateStd: number;
}

/**
 * Metrics of a summed evaluation vector (count units) whose coordinates each carry independent noise of standard
 * deviation `coordinateStd`. Ratios use the noisy count clamped to >= 1; histogram cells are clamped to >= 0 for
 * the AUC. Each metric's noise std is estimated by re-drawing the coordinate noise around the released vector
 * (a parametric bootstrap from a fixed seed, so the same sum always reports the same std).
 */
export function metricsOfEvaluation(
  vector: Float64Array,
  shape: { classes: number; scoreBins: number; lossClip: number },
  coordinateStd: number,
): EvaluationMetrics {
  const layout = evaluationLayout(shape.classes, shape.scoreBins);
  if (!(vector instanceof Float64Array)) throw new TypeError('vector: expected a Float64Array');
  if (vector.length !== layout.length) throw new RangeError(`vector: expected ${layout.length} coordinates`);
  if (!(coordinateStd >= 0 && Number.isFinite(coordinateStd))) throw new RangeError('coordinateStd: expected >= 0');
  const point = pointMetrics(vector, layout, shape);
  const draws = coordinateStd > 0 ? 400 : 0;
  const samples: ReturnType<typeof pointMetrics>[] = [];
  const random = gaussianStream(0x5eed);
  const noisy = new Float64Array(vector.length);
  for (let i = 0; i < draws; i++) {
    for (let j = 0; j < vector.length; j++) noisy[j] = vector[j] + coordinateStd * random();
    samples.push(pointMetrics(noisy, layout, shape));
  }
  const stdOf = (pick: (m: ReturnType<typeof pointMetrics>) => number | undefined) => {
    if (pick(point) === undefined) return undefined;
    if (draws === 0) return 0;
    const values = samples.map((m) => pick(m)!);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
  };
  return {
    ...point,
    std: {
      records: coordinateStd,
      accuracy: stdOf((m) => m.accuracy),
      loss: stdOf((m) => m.loss)!,
      rocAuc: stdOf((m) => m.rocAuc),
    },
    coordinateStd,
  };
}

function pointMetrics(
  v: Float64Array,
  layout: ReturnType<typeof evaluationLayout>,
  shape: { classes: number; scoreBins: number; lossClip: number },
): { records: number; accuracy?: number; loss: number; rocAuc?: number } {
  const records = v[layout.count];
  const n = Math.max(1, records);
  const out: { records: number; accuracy?: number; loss: number; rocAuc?: number } = {
    records,
    loss: (Math.max(0, v[layout.lossSum]) * shape.lossClip) / n,
  };
  if (shape.classes > 0) out.accuracy = Math.min(1, Math.max(0, v[layout.correct] / n));
  if (shape.scoreBins > 0) out.rocAuc = histogramAuc(v, layout.histogram, shape.scoreBins);
  return out;
}

/** ROC AUC from per-label score histograms (bins ascending; pairs in one bin count one half). */
function histogramAuc(v: Float64Array, offset: number, bins: number): number {
  let negatives = 0;
  let positives = 0;
  for (let b = 0; b < bins; b++) {
    negatives += Math.max(0, v[offset + b]);
    positives += Math.max(0, v[offset + bins + b]);
  }
  if (negatives <= 0 || positives <= 0) return 0.5;
  let below = 0;
  let wins = 0;
  for (let b = 0; b < bins; b++) {
    const neg = Math.max(0, v[offset + b]);
    const pos = Math.max(0, v[offset + bins + b]);
    wins += pos * (below + neg / 2);
    below += neg;
  }
  return wins / (negatives * positives);
}

/** Standard normal draws from a seeded mulberry32 + Box-Muller (reproducible noise estimates, not privacy noise). */
function gaussianStream(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/**
 * The receipt fields a site signs for a round under `plan`: a training plan's terms (receiptTermsOf), or an
 * evaluation plan's: the Gaussian mechanism once (rate 1, one step) with the vector's sensitivity as the clip norm,
 * in distributed mode the discrete Gaussian on the vector's grid, marked `use: 'evaluation'`. Agent and aggregator
 * both call this; the aggregator refuses a receipt whose terms differ. Null in mode none.
 */
export function receiptTermsOfPlan(
  plan: Pick<TrainingPlan, 'privacy' | 'evaluation' | 'roster'>,
): (NonNullable<ReturnType<typeof receiptTermsOf>> & { use?: 'evaluation' }) | null {
  const training = receiptTermsOf(plan.privacy);
  const e = plan.evaluation;
  if (training === null || e === undefined) return training;
  const terms = {
    mode: training.mode,
    sampleRate: 1,
    noiseMultiplier: e.noiseMultiplier,
    steps: 1,
    clipNorm: e.sensitivity,
    delta: training.delta,
    ...(training.accountant === undefined ? {} : { accountant: training.accountant }),
    use: 'evaluation' as const,
  };
  if (training.mode === 'local') return terms;
  return {
    ...terms,
    distributed: {
      granularity: 2 ** e.scaleBits,
      roundingBeta: 0,
      dimension: e.vectorLength,
      modulusBits: 32,
      localNoiseVariance: e.localNoiseVariance,
      minNoisyClients: e.minNoisyClients,
      cohortSize: plan.roster.length,
    },
  };
}

/**
 * Each coordinate of a site's evaluation vector is clamped to [-clamp, clamp] before encoding, so the sum of n sites
 * (each below 2^31 / (2n) grid units, half the range left for the noise) cannot wrap around 2^32. A derived plan field.
 */
export function evaluationClamp(cohortSize: number, scaleBits: number): number {
  if (!Number.isInteger(cohortSize) || cohortSize < 1) throw new RangeError('cohortSize: expected an integer >= 1');
  if (!Number.isInteger(scaleBits) || scaleBits < 0 || scaleBits > 24) throw new RangeError('scaleBits: 0..24');
  return 2 ** 31 / (2 * cohortSize * 2 ** scaleBits);
}

/** The unmasked sum (uint32 words, two's complement on the 2^scaleBits grid) in count units. */
export function decodeEvaluationSum(sum: Uint32Array, scaleBits: number): Float64Array {
  if (!(sum instanceof Uint32Array)) throw new TypeError('sum: expected a Uint32Array');
  const out = new Float64Array(sum.length);
  const unit = 2 ** scaleBits;
  for (let i = 0; i < sum.length; i++) out[i] = (sum[i] | 0) / unit;
  return out;
}

/**
 * Standard deviation of the noise on each coordinate of a released evaluation sum of `survivors` sites, in count
 * units: each site adds a discrete Gaussian of `localNoiseVariance` grid units^2 (local mode: its whole noise, of std
 * z x sensitivity; distributed mode: its share), none in mode none. Sites round their vector to the 2^-scaleBits
 * grid deterministically before the noise (a bias below half a grid step per record on the loss sum, no noise).
 */
export function evaluationCoordinateStd(
  plan: Pick<EvaluationPlan, 'localNoiseVariance' | 'scaleBits'>,
  survivors: number,
): number {
  return Math.sqrt(survivors * plan.localNoiseVariance) / 2 ** plan.scaleBits;
}
