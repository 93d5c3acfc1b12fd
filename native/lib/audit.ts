/**
 * @concord/native/audit: DP-SGD with white-box audit canaries, for `concord privacy audit` and its tests ONLY.
 *
 * Why a separate entry point (package subpath `@concord/native/audit`) rather than an option of `trainLocal`:
 * the training path (client agent `train-and-encode.ts`, driven by a signed plan) imports `trainLocal` from
 * `@concord/native`, whose options have no canary field and never pass the addon's 8th argument; nothing in a
 * plan or in the agent's CLI can name this module. The audit harness imports it explicitly, on synthetic data.
 *
 * Semantics: exactly `trainLocal` in DP mode (native/README.md) with m extra virtual records after the n real
 * ones. They are Poisson-sampled by the same sampler from the same ChaCha20 stream as the real records, and a
 * sampled canary c adds its clipped per-example gradient, clipNorm on parameter `canaryCoordinates[c]`, to the
 * step's sum before the Gaussian noise (a "Dirac" gradient canary, Nasr et al. 2021 / Steinke et al. 2023
 * section 6). The divisor stays q n (real records): it is public post-processing and keeps the agent's
 * sum = -delta q n identity for the distributed mode.
 */
import { callNative, loadBinding } from './addon.js';
import { checkData, checkSpecAndWeights } from './train-args.js';
import { finiteNumber, integerIn, rangeError, seedArg, threadsArg, typeError } from './guards.js';
import { encodeSpec, parameterCount, type ModelSpec } from './spec.js';

export interface CanaryTrainOptions {
  spec: ModelSpec;
  weights: Float32Array;
  features: Float32Array;
  labels: Float32Array;
  steps: number;
  learningRate: number;
  sampleRate: number;
  /** >= 0; 0 is the audit's negative control (noise removed) */
  noiseMultiplier: number;
  clipNorm: number;
  /** one parameter index per canary (distinct indices make the canaries independent) */
  canaryCoordinates: Uint32Array;
  seed?: Uint8Array;
  threads?: number;
  /** one step only: also return the step's clipped sum in double, as `trainLocal`'s `clippedSum` (distributed mode) */
  clippedSum?: boolean;
}

/**
 * One DP-SGD run (plain SGD, no momentum) with audit canaries. Returns delta = w_after - w_before (and, with
 * `clippedSum`, the step's clipped sum in double, canaries included).
 * @throws NativeTypeError / NativeRangeError (code E_INVALID_ARGUMENT, E_SPEC_MISMATCH, E_NON_FINITE) before any work.
 */
export async function trainWithCanaries(o: CanaryTrainOptions): Promise<{
  delta: Float32Array;
  stats: { steps: number; meanBatchSize: number; fractionClipped: number; loss: number };
  clippedSum?: Float64Array;
}> {
  if (typeof o !== 'object' || o === null) throw typeError('options', 'an object');
  const { spec, weights } = checkSpecAndWeights(o.spec, o.weights);
  const p = parameterCount(spec);
  const n = checkData(spec, o.features, o.labels);
  const features = o.features;
  const labels = o.labels;
  const steps = integerIn('steps', o.steps, 0, 10_000_000);
  const learningRate = finiteNumber('learningRate', o.learningRate);
  if (learningRate < 0) throw rangeError('learningRate', 'must be >= 0');
  const q = finiteNumber('sampleRate', o.sampleRate);
  if (!(q > 0 && q <= 1)) throw rangeError('sampleRate', 'must be in (0, 1]');
  const sigma = finiteNumber('noiseMultiplier', o.noiseMultiplier);
  if (sigma < 0) throw rangeError('noiseMultiplier', 'must be >= 0');
  const clip = finiteNumber('clipNorm', o.clipNorm);
  if (!(clip > 0)) throw rangeError('clipNorm', 'must be > 0');
  const coords = o.canaryCoordinates;
  if (!(coords instanceof Uint32Array)) throw typeError('canaryCoordinates', 'a Uint32Array');
  for (let i = 0; i < coords.length; i++)
    if (coords[i] >= p) throw rangeError('canaryCoordinates', `[${i}] must be a parameter index below ${p}`);
  if (o.clippedSum !== undefined && typeof o.clippedSum !== 'boolean') throw typeError('clippedSum', 'a boolean');
  if (o.clippedSum && steps !== 1) throw rangeError('clippedSum', 'needs steps 1');
  const seed = seedArg('seed', o.seed);
  const threads = threadsArg(o.threads);
  const options = {
    steps,
    learningRate,
    momentum: 0,
    proximalMu: 0,
    threads,
    dp: true,
    sampleRate: q,
    noiseMultiplier: sigma,
    clipNorm: clip,
    batchSize: 1,
    clippedSum: o.clippedSum === true,
  };
  const b = loadBinding() as unknown as {
    trainLocal(...args: unknown[]): Promise<{
      delta: Float32Array;
      clippedSum?: Float64Array;
      stats: { steps: number; meanBatchSize: number; fractionClipped: number; loss: number };
    }>;
  };
  const w = weights.slice();
  return callNative(() => b.trainLocal(encodeSpec(spec), w, features, labels, n, options, seed, coords.slice()));
}
