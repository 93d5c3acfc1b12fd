/**
 * The checks every training entry point runs on its model and data before anything reaches C++: the spec, weights
 * of the spec's length, finite features whose length is a multiple of the input size, and labels of the right width
 * (class indices in range for softmax, which the kernel uses to index its outputs). Shared by `trainLocal`,
 * `evaluate`/`predict` and the audit's `trainWithCanaries`, so no entry point checks less than another.
 */
import { allFinite, float32Array, rangeError } from './guards.js';
import { labelWidth, outputCount, parameterCount, validateSpec, type ModelSpec } from './spec.js';

export function checkSpecAndWeights(spec: unknown, weights: unknown): { spec: ModelSpec; weights: Float32Array } {
  const clean = validateSpec(spec);
  const w = float32Array('weights', weights);
  const expected = parameterCount(clean);
  if (w.length !== expected)
    throw rangeError('weights', `has ${w.length} values but the spec has ${expected} parameters`, 'E_SPEC_MISMATCH');
  allFinite('weights', w);
  return { spec: clean, weights: w };
}

export function checkData(spec: ModelSpec, features: unknown, labels: unknown | undefined): number {
  const f = float32Array('features', features);
  if (f.length === 0 || f.length % spec.inputSize !== 0)
    throw rangeError('features', `length must be a positive multiple of inputSize (${spec.inputSize})`);
  allFinite('features', f);
  const n = f.length / spec.inputSize;
  if (labels !== undefined) {
    const l = float32Array('labels', labels);
    const lw = labelWidth(spec);
    if (l.length !== n * lw) throw rangeError('labels', `must have ${n * lw} values (${n} examples x ${lw})`);
    allFinite('labels', l);
    if (spec.loss === 'softmax-cross-entropy') {
      const k = outputCount(spec);
      for (let i = 0; i < n; i++)
        if (!Number.isInteger(l[i]) || l[i] < 0 || l[i] >= k)
          throw rangeError('labels', `[${i}] must be a class index in [0, ${k})`);
    }
  }
  return n;
}
