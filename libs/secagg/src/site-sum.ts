/**
 * Record-level distributed discrete Gaussian encoding of ONE site's summed update: Concord's `distributed` mode,
 * where a round is one DP-SGD step over the union of the sites' records and each record (not each site) is the
 * unit of privacy.
 *
 *   site:   s = sum over the site's Poisson sample of (clipped gradient, countWeight)   (each record: L2 <= C)
 *           -> clamp every coordinate to [-clip, clip] -> * 2^scaleBits
 *           -> plain randomized rounding: floor(y) + [U < frac(y)], U uniform   (native `quantize`)
 *           -> + N_Z(0, localNoiseVariance) per coordinate                      (native CKS 2020 sampler)
 *           -> mod 2^32, then masked by SecAgg+ (client.ts)
 *   server: SecAgg+ sum mod 2^32 -> centred int32 -> / 2^scaleBits.
 *
 * Why not `encodeDdg` (ddg.ts, [KLS21]'s per-contribution pipeline with rotation and conditional rounding): that
 * pipeline bounds the norm of a contribution clipped AS A WHOLE, the unit of user-level DP. Here the site's sum is
 * not clipped as a whole (it grows with the batch); what matters is how far one record moves the ROUNDED sum.
 * Plain randomized rounding equals R_U(y) = ceil(y - U); with the same U for two sums that differ by one record,
 * every coordinate of R_U(y) - R_U(y') lies in {floor(delta_i), ceil(delta_i)}, so one record moves the rounded
 * sum by at most C 2^s + sqrt(d) in L2 (clamping is 1-Lipschitz and does not change this). @concord/dp accounts
 * exactly this ('record' neighbouring with roundingBias 0, the shared-uniform coupling in its ddg.ts), and the
 * receipt a site signs declares roundingBeta 0. Conditional rounding would break the coupling (the rejection step
 * depends on the whole vector), which is why the protocol refuses roundingBeta > 0. The random rotation of
 * [KLS21] only reduces the modulus a sum needs; with 32-bit words and the plan's clamp (sized so n sites' sums
 * cannot wrap: apps/aggregator plan-builder.ts) it is not needed for correctness or privacy.
 *
 * Floating point: pass the site's sum as a Float64Array straight from the native trainer's `clippedSum` (clip
 * factors and accumulation in double, never rebuilt from a float32 weight update): its rounding error is then far
 * below one grid step, and the removal of one record moves the encoded sum by at most C 2^s + sqrt(d) (checked in
 * integer arithmetic by libs/secagg test site-sum-sensitivity). A Float32Array is accepted for other callers. The
 * Gaussian noise itself is integer-valued here, so the Mironov 2012 attack on floating-point noise does not apply.
 */
import { discreteGaussian, quantize } from '@concord/native';
import { requireFinite, requireInteger } from './guards.js';

export interface SiteSumEncoding {
  /** every coordinate is clamped to [-clip, clip] model units before rounding; clip * 2^scaleBits < 2^31 */
  clip: number;
  /** fixed point: 2^scaleBits integer units per model unit */
  scaleBits: number;
  /** variance of this site's discrete Gaussian share, in integer units ((z C 2^s)^2 / t in the plan) */
  localNoiseVariance: number;
}

/**
 * Encodes a site's summed update as the uint32 words SecAgg+ masks: clamp, scale, plain randomized rounding and
 * the site's discrete Gaussian share, mod 2^32. `seed` (32 bytes) makes rounding and noise reproducible (tests and
 * benchmarks only; without it the native CSPRNG seeds itself from the OS). Throws TypeError / RangeError on a
 * bad argument, before any work.
 */
export async function encodeSiteSum(
  sum: Float32Array | Float64Array,
  o: SiteSumEncoding & { seed?: Uint8Array },
): Promise<Uint32Array> {
  if (!(sum instanceof Float32Array || sum instanceof Float64Array)) {
    throw new TypeError('sum must be a Float64Array (or Float32Array)');
  }
  if (sum.length === 0) throw new RangeError('sum must not be empty');
  if (typeof o !== 'object' || o === null) throw new TypeError('options must be an object');
  const scaleBits = requireInteger(o.scaleBits, 'scaleBits', 0, 30);
  const clip = requireFinite(o.clip, 'clip', 0, 2 ** 31, true);
  if (!(clip * 2 ** scaleBits < 2 ** 31)) throw new RangeError('clip * 2^scaleBits must be below 2^31');
  const variance = requireFinite(o.localNoiseVariance, 'localNoiseVariance', 0, 2 ** 40);
  const words = await quantize(sum, { clip, scaleBits, seed: o.seed });
  // the native streams for rounding and for noise are separated by stream id, so one seed serves both
  const noise = await discreteGaussian(sum.length, variance, o.seed);
  for (let i = 0; i < words.length; i++) words[i] = (words[i] + noise[i]) >>> 0;
  return words;
}
