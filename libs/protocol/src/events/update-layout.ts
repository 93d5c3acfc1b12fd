/**
 * What the summed SecAgg+ vector holds, shared by the agent (which encodes) and the aggregator (which decodes).
 *
 * - `local` and `none`: the site's model delta (after its local steps), each value clipped to [-clip, clip],
 *   times 2^scaleBits, stochastically rounded, two's complement mod 2^32. Sites are weighted equally (no example
 *   counts leave a site): the aggregator divides the decoded sum by the number of survivors.
 * - `distributed`: ONE DP-SGD step over the union of the sites' data. Each sampled record contributes the vector
 *   (clipped per-example gradient, countWeight) whose L2 norm is <= clipNorm (the gradient is clipped to
 *   sqrt(clipNorm^2 - countWeight^2)); the site sends the sum over its Poisson sample, scaled by 2^scaleBits,
 *   randomly rounded, plus its discrete Gaussian share. The last coordinate of the decoded sum is therefore
 *   countWeight * (noisy total batch size): the aggregator divides the gradient sum by it, as DP-SGD divides by the
 *   batch size, without any site's count leaving it in clear.
 */
import type { PrivacyPlan, TrainingPlan } from './plan.js';

/** Number of uint32 words in the summed vector for a model of `parameterCount` values. */
export function updateVectorLength(privacy: PrivacyPlan, parameterCount: number): number {
  return privacy.mode === 'distributed' ? parameterCount + 1 : parameterCount;
}

/** Scale bits of the fixed-point encoding the plan uses. */
export function planScaleBits(plan: Pick<TrainingPlan, 'privacy' | 'encoding'>): number {
  return plan.privacy.mode === 'distributed' ? plan.privacy.distributed.scaleBits : plan.encoding.scaleBits;
}

/** Clip norm of the per-example gradient inside a distributed-mode record vector. */
export function distributedGradientClip(privacy: Extract<PrivacyPlan, { mode: 'distributed' }>): number {
  const { clipNorm } = privacy;
  const w = privacy.distributed.countWeight;
  if (w >= clipNorm) throw new RangeError('privacy.distributed.countWeight must be below privacy.clipNorm');
  return Math.sqrt(clipNorm * clipNorm - w * w);
}

export type DecodedSum =
  | { mode: 'local' | 'none'; meanDelta: Float32Array }
  | { mode: 'distributed'; gradientSum: Float32Array; noisyBatchSize: number };

/** Two's complement int32 of each word, divided by 2^scaleBits. */
export function wordsToReals(words: Uint32Array, scaleBits: number, length = words.length): Float64Array {
  const out = new Float64Array(length);
  const scale = 2 ** -scaleBits;
  for (let i = 0; i < length; i++) out[i] = (words[i] | 0) * scale;
  return out;
}

/** Decodes the unmasked sum of `survivors` sites under `plan`. */
export function decodeUpdateSum(
  sum: Uint32Array,
  plan: Pick<TrainingPlan, 'privacy' | 'encoding' | 'model'>,
  survivors: number,
): DecodedSum {
  const p = plan.model.parameterCount;
  const expected = updateVectorLength(plan.privacy, p);
  if (!(sum instanceof Uint32Array) || sum.length !== expected) {
    throw new RangeError(`sum: expected a Uint32Array of ${expected} words`);
  }
  if (!Number.isInteger(survivors) || survivors < 1) throw new RangeError('survivors: expected a positive integer');
  const reals = wordsToReals(sum, planScaleBits(plan));
  if (plan.privacy.mode === 'distributed') {
    const gradientSum = Float32Array.from(reals.subarray(0, p));
    const noisyBatchSize = reals[p] / plan.privacy.distributed.countWeight;
    return { mode: 'distributed', gradientSum, noisyBatchSize };
  }
  const meanDelta = new Float32Array(p);
  for (let i = 0; i < p; i++) meanDelta[i] = reals[i] / survivors;
  return { mode: plan.privacy.mode, meanDelta };
}

/**
 * The accounting phase of one round for one site, in @concord/dp's `Phase` shape (sampleRate, noiseMultiplier,
 * steps, optional distributed discrete Gaussian mechanism). Null for mode `none` (nothing is charged).
 */
export function privacyPhaseOf(privacy: PrivacyPlan): {
  sampleRate: number;
  noiseMultiplier: number;
  steps: number;
  mechanism?: {
    kind: 'distributed-discrete-gaussian';
    l2Clip: number;
    granularity: number;
    dimension: number;
    roundingBias: number;
    localSigma: number;
    minClients: number;
  };
} | null {
  if (privacy.mode === 'none') return null;
  if (privacy.mode === 'local') {
    return { sampleRate: privacy.sampleRate, noiseMultiplier: privacy.noiseMultiplier, steps: privacy.steps };
  }
  const d = privacy.distributed;
  return {
    sampleRate: privacy.sampleRate,
    noiseMultiplier: privacy.noiseMultiplier,
    steps: 1,
    mechanism: {
      kind: 'distributed-discrete-gaussian',
      l2Clip: privacy.clipNorm,
      granularity: 2 ** -d.scaleBits,
      dimension: d.dimension,
      roundingBias: d.roundingBeta,
      localSigma: Math.sqrt(d.localNoiseVariance),
      minClients: d.minNoisyClients,
    },
  };
}

/**
 * The receipt fields a site signs for a round under `privacy` (mode `none` has no receipt): agent and aggregator
 * both derive them from the signed plan, and the aggregator refuses a receipt whose terms differ.
 */
export function receiptTermsOf(privacy: PrivacyPlan): {
  mode: 'local' | 'distributed';
  sampleRate: number;
  noiseMultiplier: number;
  steps: number;
  clipNorm: number;
  delta: number;
  accountant?: 'rdp' | 'prv';
  distributed?: {
    granularity: number;
    roundingBeta: number;
    dimension: number;
    modulusBits: number;
    localNoiseVariance: number;
    minNoisyClients: number;
    cohortSize: number;
  };
} | null {
  if (privacy.mode === 'none') return null;
  const base = {
    mode: privacy.mode,
    sampleRate: privacy.sampleRate,
    noiseMultiplier: privacy.noiseMultiplier,
    steps: privacy.steps,
    clipNorm: privacy.clipNorm,
    delta: privacy.delta,
    ...(privacy.accountant === undefined ? {} : { accountant: privacy.accountant }),
  };
  if (privacy.mode === 'local') return base;
  const d = privacy.distributed;
  return {
    ...base,
    distributed: {
      granularity: 2 ** d.scaleBits,
      roundingBeta: d.roundingBeta,
      dimension: d.dimension,
      modulusBits: d.modulusBits,
      localNoiseVariance: d.localNoiseVariance,
      minNoisyClients: d.minNoisyClients,
      cohortSize: d.cohortSize,
    },
  };
}
