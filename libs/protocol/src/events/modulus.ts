/**
 * The SecAgg+ modulus 2^b a round sums in, derived from the plan (issue 20): b bits per coordinate on the wire
 * instead of 32. The aggregator computes it in its plan builder; every agent recomputes it from the plan fields it
 * already checks (roster size, clamp, scale, its own recomputed noise variance) and refuses a plan whose value
 * differs, so a hostile aggregator cannot pick a modulus that wraps the sum.
 *
 * A sum decodes correctly when every coordinate of the true (integer) sum lies in [-2^(b-1), 2^(b-1)): the signed
 * decoding centres the sum mod 2^b. The bound on |sum| per coordinate, in integer units:
 *
 * - the sites' values: each site clamps every coordinate to [-clamp, clamp] model units before rounding to the
 *   2^-scaleBits grid, so it sends at most ceil(clamp 2^s) in absolute value; n sites at most n ceil(clamp 2^s).
 *   This part is a hard bound (the clamp is the site's own, local/none and distributed alike).
 * - distributed mode adds n discrete Gaussian shares of variance sigma^2 each. A discrete Gaussian is
 *   sigma^2-subgaussian (Canonne, Kamath, Steinke 2020, Cor. 23), so their sum is (n sigma^2)-subgaussian and
 *   P(|noise_j| > tau) <= 2 exp(-tau^2 / (2 n sigma^2)); over d coordinates (union bound) every |noise_j| <= tau
 *   except with probability p when tau = sqrt(2 n sigma^2 ln(2d/p)). p = 2^-40 per round
 *   (SUM_OVERFLOW_PROBABILITY). This part is probabilistic: with probability <= p a round's sum wraps and the
 *   released update is garbage (a correctness event, never a privacy one: the masks and the noise are unchanged).
 *
 * b = bitLength(floor(bound)) + 1 (the sign bit), at least 2; b > 32 means the plan cannot run (the words are
 * 32-bit) and the plan builder refuses to build it.
 */
import type { TrainingPlan } from './plan.js';
import { planScaleBits } from './update-layout.js';

/** Probability, per round, that the distributed noise pushes some coordinate of the sum outside the modulus. */
export const SUM_OVERFLOW_PROBABILITY = 2 ** -40;
/** The widest modulus the 32-bit words carry. */
export const MAX_MODULUS_BITS = 32;

export interface ModulusInputs {
  /** n: the roster size (every site's value may be in the sum) */
  cohortSize: number;
  /** per-coordinate clamp each site applies, model units */
  clamp: number;
  /** 2^scaleBits integer units per model unit */
  scaleBits: number;
  /** summed coordinates (the SecAgg+ vector length) */
  dimension: number;
  /** each site's discrete Gaussian variance in integer units (0 or absent: no noise is added to the words) */
  noiseVariance?: number;
}

/** The largest |coordinate| of the sum, in integer units (see the module comment), as a float. */
export function sumBound(o: ModulusInputs): number {
  const { cohortSize: n, clamp, scaleBits, dimension, noiseVariance = 0 } = o;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`cohortSize: expected a positive integer, got ${n}`);
  if (!(Number.isFinite(clamp) && clamp > 0)) throw new RangeError(`clamp: expected a positive number, got ${clamp}`);
  if (!Number.isInteger(scaleBits) || scaleBits < 0 || scaleBits > 40) {
    throw new RangeError(`scaleBits: expected an integer in [0, 40], got ${scaleBits}`);
  }
  if (!Number.isInteger(dimension) || dimension < 1) {
    throw new RangeError(`dimension: expected a positive integer, got ${dimension}`);
  }
  if (!(Number.isFinite(noiseVariance) && noiseVariance >= 0)) {
    throw new RangeError(`noiseVariance: expected a finite number >= 0, got ${noiseVariance}`);
  }
  const values = n * Math.ceil(clamp * 2 ** scaleBits);
  const noise =
    noiseVariance > 0 ? Math.sqrt(2 * n * noiseVariance * Math.log((2 * dimension) / SUM_OVERFLOW_PROBABILITY)) : 0;
  return values + noise;
}

/** b such that every sum within {@link sumBound} decodes: bitLength(floor(bound)) + 1, at least 2 (may exceed 32). */
export function modulusBitsFor(o: ModulusInputs): number {
  const bound = Math.floor(sumBound(o));
  let bitLength = 0;
  while (2 ** bitLength <= bound) bitLength++; // exact on integers (the bound is far below 2^53)
  return Math.max(2, bitLength + 1);
}

/** Bytes of a vector of `length` words packed at `bits` bits each: ceil(bits * length / 8). */
export function packedByteLength(bits: number, length: number): number {
  if (!Number.isInteger(bits) || bits < 1 || bits > MAX_MODULUS_BITS) {
    throw new RangeError(`bits: expected an integer in [1, 32], got ${bits}`);
  }
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`length: expected an integer >= 0, got ${length}`);
  return Math.ceil((bits * length) / 8);
}

/**
 * The modulus bits of a plan, from the fields both sides check: the roster size, the plan's clamp
 * (`encoding.clip`), its scale, the vector length and, in distributed mode, the sites' noise variance. An
 * evaluation plan sums its own vector of counts: its clamp, scale, length and noise (events/evaluation.ts).
 */
export function planModulusBits(
  plan: Pick<TrainingPlan, 'privacy' | 'encoding' | 'roster'> & {
    secagg: Pick<TrainingPlan['secagg'], 'vectorLength'>;
    evaluation?: { clamp: number; scaleBits: number; vectorLength: number; localNoiseVariance: number };
  },
): number {
  const e = plan.evaluation;
  if (e) {
    return modulusBitsFor({
      cohortSize: plan.roster.length,
      clamp: e.clamp,
      scaleBits: e.scaleBits,
      dimension: e.vectorLength,
      noiseVariance: e.localNoiseVariance,
    });
  }
  return modulusBitsFor({
    cohortSize: plan.roster.length,
    clamp: plan.encoding.clip,
    scaleBits: planScaleBits(plan),
    dimension: plan.secagg.vectorLength,
    noiseVariance: plan.privacy.mode === 'distributed' ? plan.privacy.distributed.localNoiseVariance : 0,
  });
}
