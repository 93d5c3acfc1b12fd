/**
 * @concord/native: the TypeScript facade over the C++ kernels (training with per-example clipping and
 * noise, CSPRNG Gaussian and discrete Gaussian sampling, ChaCha20 mask expansion, fixed-point encoding).
 * Every argument is checked here (TypeError / RangeError with a `code`) before it reaches C++; heavy
 * operations return promises and run on libuv's worker threads. Semantics and sources: native/README.md.
 */
import { callNative, loadBinding } from './addon.js';
import { checkData, checkSpecAndWeights } from './train-args.js';
import { resolveDevice, trainLocalCuda, type Device } from './cuda.js';
import {
  allFinite,
  finiteNumber,
  float32Array,
  integerIn,
  rangeError,
  seedArg,
  threadsArg,
  typeError,
} from './guards.js';
import { encodeSpec, validateSpec, type ModelSpec } from './spec.js';

export {
  NativeError,
  NativeRangeError,
  NativeTypeError,
  parameterCount,
  validateSpec,
  layerOffsets,
  type Activation,
  type LayerSpec,
  type Loss,
  type ModelSpec,
} from './spec.js';
export * as reference from './reference/index.js';
export { CudaError, E_NO_CUDA, type Device } from './cuda.js';

export interface TrainOptions {
  spec: ModelSpec;
  /** Flat parameters (layout: native/README.md); not modified. */
  weights: Float32Array;
  /** n x inputSize, row-major. */
  features: Float32Array;
  /** softmax-CE: n class indices (as floats); BCE / MSE: n x outputs. */
  labels: Float32Array;
  steps: number;
  learningRate: number;
  /** Heavy-ball momentum in [0, 1), as torch.optim.SGD with dampening 0. Default 0. */
  momentum?: number;
  privacy:
    { mode: 'dp'; sampleRate: number; noiseMultiplier: number; clipNorm: number } | { mode: 'none'; batchSize: number };
  /** FedProx: gradient += mu (w - w_start). Default 0. */
  proximalMu?: number;
  /**
   * Class weight (sigmoid binary cross-entropy only): each example's loss gradient for an output whose label is 1 is
   * multiplied by this weight BEFORE per-example clipping (1 + (w - 1) t for a soft label t), so the clipped norm is
   * still <= clipNorm and the privacy analysis is unchanged. Finite, > 0 and < 1e6. Default 1 (unweighted). CPU only.
   */
  classWeight?: number;
  /** 32 bytes; tests and benchmarks only. Default: OS entropy (getrandom). */
  seed?: Uint8Array;
  /** Worker threads for this call (DP with >= 2: one of them draws the noise). Default 1. */
  threads?: number;
  /** 'cpu' (default), 'cuda' (E_NO_CUDA when unusable) or 'auto'; the CUDA backend is native/lib/cuda.ts. */
  device?: Device;
  /** CUDA only: examples per GPU micro-batch. */
  microBatch?: number;
  /** CUDA only: device ordinal. */
  deviceOrdinal?: number;
  /**
   * DP mode with one step (distributed mode, libs/secagg site-sum.ts): also return `clippedSum`, the step's sum of
   * clipped per-example gradients, clip factors and accumulation in double (CPU only). Default false.
   */
  clippedSum?: boolean;
}

export interface TrainStats {
  steps: number;
  meanBatchSize: number;
  fractionClipped: number;
  /** Mean per-example training loss over all sampled examples, before each step's update. */
  loss: number;
}

/** Builds the random initial parameters: He normal for ReLU layers, Glorot normal otherwise; biases 0. */
export function initWeights(spec: ModelSpec, seed?: Uint8Array): Float32Array {
  const clean = validateSpec(spec);
  return loadBinding().initWeights(encodeSpec(clean), seedArg('seed', seed));
}

/**
 * One local training run in native code. DP mode: Poisson sampling with rate q, per-example clipping of the
 * whole gradient to clipNorm C (ghost norms), sum, Gaussian noise N(0, (sigma C)^2) per coordinate drawn from
 * ChaCha20 and snapped to a power-of-two grid, division by the expected batch size q n, SGD with momentum.
 * Returns delta = w_after - w_before and statistics about the site's data (keep them at the site).
 */
export async function trainLocal(
  o: TrainOptions,
): Promise<{ delta: Float32Array; stats: TrainStats; clippedSum?: Float64Array }> {
  if (typeof o !== 'object' || o === null) throw typeError('options', 'an object');
  const { spec, weights } = checkSpecAndWeights(o.spec, o.weights);
  const n = checkData(spec, o.features, o.labels);
  if (n > 2 ** 32 - 1) throw rangeError('features', 'has too many examples');
  const steps = integerIn('steps', o.steps, 0, 10_000_000);
  const learningRate = finiteNumber('learningRate', o.learningRate);
  if (learningRate < 0) throw rangeError('learningRate', 'must be >= 0');
  const momentum = o.momentum === undefined ? 0 : finiteNumber('momentum', o.momentum);
  if (momentum < 0 || momentum >= 1) throw rangeError('momentum', 'must be in [0, 1)');
  const proximalMu = o.proximalMu === undefined ? 0 : finiteNumber('proximalMu', o.proximalMu);
  if (proximalMu < 0) throw rangeError('proximalMu', 'must be >= 0');
  const classWeight = o.classWeight === undefined ? 1 : finiteNumber('classWeight', o.classWeight);
  if (!(classWeight > 0 && classWeight < 1e6)) throw rangeError('classWeight', 'must be in (0, 1e6)');
  if (classWeight !== 1 && spec.loss !== 'sigmoid-binary-cross-entropy')
    throw rangeError('classWeight', 'needs the sigmoid-binary-cross-entropy loss');
  const seed = seedArg('seed', o.seed);
  const threads = threadsArg(o.threads);
  const p = o.privacy as unknown;
  if (typeof p !== 'object' || p === null) throw typeError('privacy', 'an object');
  const mode = (p as { mode?: unknown }).mode;
  const native: Record<string, number | boolean> = {
    steps,
    learningRate,
    momentum,
    proximalMu,
    threads,
    dp: false,
    sampleRate: 1,
    noiseMultiplier: 0,
    clipNorm: 1,
    batchSize: 1,
    positiveWeight: classWeight,
  };
  if (mode === 'dp') {
    const dp = p as { sampleRate?: unknown; noiseMultiplier?: unknown; clipNorm?: unknown };
    const q = finiteNumber('privacy.sampleRate', dp.sampleRate);
    if (!(q > 0 && q <= 1)) throw rangeError('privacy.sampleRate', 'must be in (0, 1]');
    const sigma = finiteNumber('privacy.noiseMultiplier', dp.noiseMultiplier);
    if (sigma < 0) throw rangeError('privacy.noiseMultiplier', 'must be >= 0');
    const clip = finiteNumber('privacy.clipNorm', dp.clipNorm);
    if (!(clip > 0)) throw rangeError('privacy.clipNorm', 'must be > 0');
    Object.assign(native, { dp: true, sampleRate: q, noiseMultiplier: sigma, clipNorm: clip });
  } else if (mode === 'none') {
    native.batchSize = integerIn('privacy.batchSize', (p as { batchSize?: unknown }).batchSize, 1, 2 ** 31 - 1);
  } else {
    throw rangeError('privacy.mode', "must be 'dp' or 'none'");
  }
  if (o.clippedSum !== undefined && typeof o.clippedSum !== 'boolean') throw typeError('clippedSum', 'a boolean');
  if (o.clippedSum) {
    if (mode !== 'dp' || steps !== 1) throw rangeError('clippedSum', 'needs privacy mode dp and steps 1');
    native.clippedSum = true;
  }
  if (classWeight !== 1 && o.device === 'cuda')
    throw rangeError('classWeight', 'is applied on the CPU only (device cpu)');
  if (resolveDevice(o.device) === 'cuda') {
    if (o.clippedSum) throw rangeError('clippedSum', 'is computed on the CPU only (device cpu)');
    if (classWeight !== 1) throw rangeError('classWeight', 'is applied on the CPU only (device cpu)');
    return trainLocalCuda({ ...o, spec });
  }
  const b = loadBinding();
  // Copy the weights: the caller may reuse its array while the training runs; delta is relative to this copy.
  const w = weights.slice();
  return callNative(() => b.trainLocal(encodeSpec(spec), w, o.features, o.labels, n, native, seed));
}

/** Mean loss and accuracy (definitions in native/README.md) over all examples. */
export async function evaluate(
  spec: ModelSpec,
  weights: Float32Array,
  features: Float32Array,
  labels: Float32Array,
  threads?: number,
): Promise<{ loss: number; accuracy: number }> {
  const c = checkSpecAndWeights(spec, weights);
  const n = checkData(c.spec, features, labels);
  const t = threadsArg(threads);
  const b = loadBinding();
  return callNative(() => b.evaluate(encodeSpec(c.spec), c.weights, features, labels, n, t));
}

/** Network outputs (after the last layer's activation; logits for the CE losses), n x outputs. */
export async function predict(
  spec: ModelSpec,
  weights: Float32Array,
  features: Float32Array,
  threads?: number,
): Promise<Float32Array> {
  const c = checkSpecAndWeights(spec, weights);
  const n = checkData(c.spec, features, undefined);
  const t = threadsArg(threads);
  const b = loadBinding();
  return callNative(() => b.predict(encodeSpec(c.spec), c.weights, features, n, t));
}

/**
 * acc[i] = acc[i] + sign * word_i (mod 2^32), in place, where word_i is the little-endian uint32 at bytes
 * [4i, 4i + 4) of the ChaCha20 keystream (RFC 8439) with key = seed, nonce = 12 zero bytes, block counter
 * from 0. Exactly uniform masks: whole keystream words, no reduction, no folding of the seed.
 */
export async function maskAdd(acc: Uint32Array, seed: Uint8Array, sign: 1 | -1): Promise<void> {
  if (!(acc instanceof Uint32Array)) throw typeError('acc', 'a Uint32Array');
  if (acc.length > 2 ** 36) throw rangeError('acc', 'is longer than one ChaCha20 stream (2^36 words)');
  const s = seedArg('seed', seed, true);
  if (sign !== 1 && sign !== -1) throw rangeError('sign', 'must be 1 or -1');
  const b = loadBinding();
  return callNative(() => b.maskAdd(acc, s!, sign));
}

/**
 * `count` samples of N(0, sigma^2) from the ChaCha20 CSPRNG, each a multiple of the grid 2^(floor(log2
 * sigma) - 9) (snapping against floating-point attacks: add them to values rounded to the same grid, or see
 * native/README.md).
 */
export async function gaussianNoise(
  count: number,
  sigma: number,
  seed?: Uint8Array,
  threads?: number,
): Promise<Float32Array> {
  const c = integerIn('count', count, 0, 2 ** 32 - 1);
  const s = finiteNumber('sigma', sigma);
  if (!(s > 0 && s < 1e30)) throw rangeError('sigma', 'must be in (0, 1e30)');
  const sd = seedArg('seed', seed);
  const t = threadsArg(threads);
  const b = loadBinding();
  return callNative(() => b.gaussianNoise(c, s, sd, t));
}

/**
 * `count` samples of the discrete Gaussian N_Z(0, sigma^2) (Canonne, Kamath, Steinke 2020), exact. sigma^2 is
 * rounded UP to a multiple of 2^-16 (more noise, never less); at most 2^40.
 */
export async function discreteGaussian(count: number, sigmaSquared: number, seed?: Uint8Array): Promise<Int32Array> {
  const c = integerIn('count', count, 0, 2 ** 32 - 1);
  const s2 = finiteNumber('sigmaSquared', sigmaSquared);
  if (!(s2 >= 0 && s2 <= 2 ** 40)) throw rangeError('sigmaSquared', 'must be in [0, 2^40]');
  const num = Math.ceil(s2 * 2 ** 16);
  const sd = seedArg('seed', seed);
  const b = loadBinding();
  return callNative(() => b.discreteGaussian(c, num, sd));
}

/**
 * Fixed point in Z_2^32: clip each value to [-clip, clip], multiply by 2^scaleBits, round stochastically
 * (unbiased), store as two's complement. clip * 2^scaleBits must be < 2^31.
 */
export async function quantize(
  values: Float32Array | Float64Array,
  o: { clip: number; scaleBits: number; seed?: Uint8Array },
): Promise<Uint32Array> {
  // float64: a site's clipped sum accumulated in double (trainLocal clippedSum); rounded exactly as float32 input
  const v = values instanceof Float64Array ? values : float32Array('values', values);
  if (typeof o !== 'object' || o === null) throw typeError('options', 'an object');
  const clip = finiteNumber('clip', o.clip);
  if (!(clip > 0)) throw rangeError('clip', 'must be > 0');
  const bits = integerIn('scaleBits', o.scaleBits, 0, 30);
  if (!(clip * 2 ** bits < 2 ** 31)) throw rangeError('clip', 'times 2^scaleBits must be below 2^31');
  allFinite('values', v);
  const sd = seedArg('seed', o.seed);
  const b = loadBinding();
  return callNative(() => b.quantize(v, clip, bits, sd));
}

/** Inverse of quantize (up to the rounding): signed int32 / 2^scaleBits. */
export function dequantize(encoded: Uint32Array, o: { scaleBits: number }): Float32Array {
  if (!(encoded instanceof Uint32Array)) throw typeError('encoded', 'a Uint32Array');
  if (typeof o !== 'object' || o === null) throw typeError('options', 'an object');
  const bits = integerIn('scaleBits', o.scaleBits, 0, 62);
  const signed = new Int32Array(encoded.buffer, encoded.byteOffset, encoded.length);
  const out = new Float32Array(encoded.length);
  const scale = 2 ** -bits;
  for (let i = 0; i < signed.length; i++) out[i] = signed[i] * scale;
  return out;
}

/** SIMD path in use; `setSimdLevel` forces a lower one (tests and benchmarks). */
export function simdLevel(): { detected: string; active: string } {
  return loadBinding().simd();
}
export function setSimdLevel(level: 'avx512' | 'avx2' | 'generic'): { detected: string; active: string } {
  if (!['avx512', 'avx2', 'generic'].includes(level))
    throw rangeError('level', "must be 'avx512', 'avx2' or 'generic'");
  return loadBinding().simd(level);
}

/** Test and benchmark hooks (not for application code). */
export const internals = {
  chacha20Keystream(seed: Uint8Array, nonce: [number, number, number], counter: number, blocks: number): Uint32Array {
    return loadBinding().chacha20Keystream(seedArg('seed', seed, true)!, Uint32Array.from(nonce), counter, blocks);
  },
  /** gaussianNoise's kernel into an existing buffer, synchronously (benchmarks). */
  gaussianInto(out: Float32Array, sigma: number, seed: Uint8Array, threads = 1): void {
    loadBinding().gaussianInto(out, sigma, seedArg('seed', seed, true)!, threads);
  },
  /** maskAdd's kernel, synchronously (benchmarks; blocks the event loop). */
  maskAddSync(acc: Uint32Array, seed: Uint8Array, sign: 1 | -1): void {
    if (!(acc instanceof Uint32Array)) throw typeError('acc', 'a Uint32Array');
    loadBinding().maskAddSync(acc, seedArg('seed', seed, true)!, sign);
  },
  gemmSeconds(M: number, N: number, K: number, iterations: number, threads = 1): { wall: number; cpu: number } {
    return loadBinding().gemmSeconds(M, N, K, iterations, threads);
  },
};
