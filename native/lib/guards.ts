/** Argument guards: TypeError / RangeError with a `code` and the parameter's name, before anything reaches C++. */
import { NativeRangeError, NativeTypeError } from './spec.js';

export function typeError(name: string, what: string): NativeTypeError {
  return new NativeTypeError('E_INVALID_ARGUMENT', `${name} must be ${what}`);
}
export function rangeError(name: string, what: string, code = 'E_INVALID_ARGUMENT'): NativeRangeError {
  return new NativeRangeError(code, `${name} ${what}`);
}

export function finiteNumber(name: string, v: unknown): number {
  if (typeof v !== 'number') throw typeError(name, 'a number');
  if (!Number.isFinite(v)) throw rangeError(name, 'must be finite', 'E_NON_FINITE');
  return v;
}

export function integerIn(name: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number') throw typeError(name, 'a number');
  if (!Number.isInteger(v) || v < lo || v > hi) throw rangeError(name, `must be an integer in [${lo}, ${hi}]`);
  return v;
}

export function float32Array(name: string, v: unknown): Float32Array {
  if (!(v instanceof Float32Array)) throw typeError(name, 'a Float32Array');
  return v;
}

export function allFinite(name: string, v: Float32Array | Float64Array): void {
  for (let i = 0; i < v.length; i++)
    if (!Number.isFinite(v[i])) throw rangeError(name, `contains NaN or Infinity at index ${i}`, 'E_NON_FINITE');
}

export function seedArg(name: string, v: unknown, required = false): Uint8Array | undefined {
  if (v === undefined && !required) return undefined;
  if (!(v instanceof Uint8Array)) throw typeError(name, 'a Uint8Array');
  if (v.length !== 32) throw rangeError(name, 'must be 32 bytes');
  return v;
}

export function threadsArg(v: unknown): number {
  return v === undefined ? 1 : integerIn('threads', v, 1, 256);
}
