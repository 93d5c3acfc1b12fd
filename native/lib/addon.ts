/**
 * The only place that loads the compiled addon. CONCORD_NATIVE_ADDON may name another build of the same
 * sources (the AddressSanitizer suite uses it); otherwise build/Release/concord_native.node next to lib/.
 */
import { createRequire } from 'node:module';
import { NativeError } from './spec.js';

export interface Binding {
  trainLocal(
    spec: Int32Array,
    weights: Float32Array,
    features: Float32Array,
    labels: Float32Array,
    n: number,
    options: Record<string, number | boolean>,
    seed?: Uint8Array,
  ): Promise<{
    delta: Float32Array;
    stats: { steps: number; meanBatchSize: number; fractionClipped: number; loss: number };
    /** with options.clippedSum: the step's clipped-gradient sum in double */
    clippedSum?: Float64Array;
  }>;
  evaluate(
    spec: Int32Array,
    weights: Float32Array,
    features: Float32Array,
    labels: Float32Array,
    n: number,
    threads: number,
  ): Promise<{ loss: number; accuracy: number }>;
  predict(
    spec: Int32Array,
    weights: Float32Array,
    features: Float32Array,
    n: number,
    threads: number,
  ): Promise<Float32Array>;
  maskAdd(acc: Uint32Array, seed: Uint8Array, sign: number): Promise<void>;
  gaussianNoise(count: number, sigma: number, seed: Uint8Array | undefined, threads: number): Promise<Float32Array>;
  discreteGaussian(count: number, sigma2Num: number, seed?: Uint8Array): Promise<Int32Array>;
  quantize(
    values: Float32Array | Float64Array,
    clip: number,
    scaleBits: number,
    seed?: Uint8Array,
  ): Promise<Uint32Array>;
  initWeights(spec: Int32Array, seed?: Uint8Array): Float32Array;
  chacha20Keystream(seed: Uint8Array, nonce: Uint32Array, counter: number, blocks: number): Uint32Array;
  gemmSeconds(M: number, N: number, K: number, iterations: number, threads: number): { wall: number; cpu: number };
  simd(level?: string): { detected: string; active: string };
  gaussianInto(out: Float32Array, sigma: number, seed: Uint8Array, threads: number): void;
  maskAddSync(acc: Uint32Array, seed: Uint8Array, sign: number): void;
}

let binding: Binding | undefined;

export function loadBinding(): Binding {
  if (binding) return binding;
  const require = createRequire(import.meta.url);
  const path = process.env.CONCORD_NATIVE_ADDON || '../build/Release/concord_native.node';
  try {
    binding = require(path) as Binding;
  } catch (cause) {
    throw new NativeError(
      'E_NOT_BUILT',
      `the native addon could not be loaded (${path}); run \`npm run build -w @concord/native\``,
      { cause },
    );
  }
  return binding;
}

/**
 * Runs a native promise, turning its rejection into a NativeError with the caller's JS stack (the addon's
 * own errors have none), as sharp's lib/is.mjs nativeError does.
 */
export async function callNative<T>(run: () => Promise<T>): Promise<T> {
  const site = new Error();
  try {
    return await run();
  } catch (e) {
    const err = e as { code?: unknown; message?: unknown };
    const wrapped = new NativeError(
      typeof err.code === 'string' ? err.code : 'E_INTERNAL',
      typeof err.message === 'string' ? err.message : String(e),
    );
    wrapped.stack = `NativeError: ${wrapped.message}\n${(site.stack ?? '').split('\n').slice(1).join('\n')}`;
    throw wrapped;
  }
}
