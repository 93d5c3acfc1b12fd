import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  evaluate,
  initWeights,
  layerOffsets,
  parameterCount,
  predict,
  reference,
  trainLocal,
  type Activation,
  type Loss,
  type ModelSpec,
} from '../lib/index.js';
import { labelsFor, maxAbsDiff, randomFloats, seedOf } from './helpers.js';

const LOSSES: Loss[] = ['softmax-cross-entropy', 'sigmoid-binary-cross-entropy', 'mse'];
const ACTS: Activation[] = ['relu', 'tanh', 'none'];

// Float tolerance for training: the addon accumulates in float32 (and fuses multiply-adds), the reference in
// double; after a few steps of lr 0.1 the parameters agree to ~1e-6 absolute on these unit-scale problems.
const TRAIN_TOL = 2e-5;

const specArb = fc.record({
  inputSize: fc.integer({ min: 1, max: 9 }),
  layers: fc.array(fc.record({ units: fc.integer({ min: 1, max: 9 }), activation: fc.constantFrom(...ACTS) }), {
    minLength: 1,
    maxLength: 3,
  }),
  loss: fc.constantFrom(...LOSSES),
});

describe('layout', () => {
  test('parameterCount and offsets follow [out x in] weight then bias per layer', () => {
    const spec: ModelSpec = {
      inputSize: 784,
      layers: [
        { units: 256, activation: 'relu' },
        { units: 256, activation: 'relu' },
        { units: 10, activation: 'none' },
      ],
      loss: 'softmax-cross-entropy',
    };
    expect(parameterCount(spec)).toBe(784 * 256 + 256 + 256 * 256 + 256 + 2570);
    expect(layerOffsets(spec)[1]).toEqual({
      weight: 784 * 256 + 256,
      bias: 784 * 256 + 256 + 65536,
      in: 256,
      units: 256,
    });
  });

  test('initWeights: He / Glorot variances, zero biases, deterministic under a seed', () => {
    const spec: ModelSpec = {
      inputSize: 400,
      layers: [
        { units: 300, activation: 'relu' },
        { units: 200, activation: 'tanh' },
      ],
      loss: 'mse',
    };
    const w = initWeights(spec, seedOf('init'));
    expect(initWeights(spec, seedOf('init'))).toEqual(w);
    const [l0, l1] = layerOffsets(spec);
    const variance = (a: Float32Array) => a.reduce((s, v) => s + v * v, 0) / a.length;
    // 120000 and 60000 samples: relative standard error of the variance ~ sqrt(2/n) < 0.6%; allow 5%.
    expect(variance(w.subarray(l0.weight, l0.bias)) / (2 / 400)).toBeCloseTo(1, 1);
    expect(variance(w.subarray(l1.weight, l1.bias)) / (2 / 500)).toBeCloseTo(1, 1);
    expect(w.subarray(l0.bias, l0.bias + 300).every((v) => v === 0)).toBe(true);
  });
});

describe('gradients', () => {
  test('reference per-example gradient matches central finite differences', () => {
    fc.assert(
      fc.property(specArb, fc.integer({ min: 1, max: 1000 }), (spec, salt) => {
        const w = Float64Array.from(randomFloats(parameterCount(spec), salt, 0.8));
        const x = randomFloats(spec.inputSize, salt + 1);
        const t = labelsFor(spec, 1, salt + 2);
        const { grad } = reference.exampleGradient(spec, w, x, t);
        const h = 1e-6;
        for (let j = 0; j < w.length; j++) {
          const wp = w.slice(),
            wm = w.slice();
          wp[j] += h;
          wm[j] -= h;
          const fd =
            (reference.exampleGradient(spec, wp, x, t).loss - reference.exampleGradient(spec, wm, x, t).loss) / (2 * h);
          // ReLU kinks make the loss non-differentiable at isolated points; a random point avoids them a.s.
          expect(Math.abs(fd - grad[j])).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
        }
      }),
      { numRuns: 25 },
    );
  });

  test('addon gradient (one full-batch step, no clipping, no noise) matches finite differences', async () => {
    const spec: ModelSpec = {
      inputSize: 4,
      layers: [
        { units: 5, activation: 'tanh' },
        { units: 3, activation: 'none' },
      ],
      loss: 'softmax-cross-entropy',
    };
    const n = 6;
    const w = randomFloats(parameterCount(spec), 11, 0.5);
    const features = randomFloats(n * 4, 12);
    const labels = labelsFor(spec, n, 13);
    const lr = 1e-3;
    const { delta } = await trainLocal({
      spec,
      weights: w,
      features,
      labels,
      steps: 1,
      learningRate: lr,
      privacy: { mode: 'none', batchSize: n },
      seed: seedOf('fd'),
    });
    const meanLoss = (ww: Float64Array) => reference.evaluate(spec, ww, features, labels).loss;
    const w64 = Float64Array.from(w);
    const h = 1e-6;
    for (let j = 0; j < w.length; j++) {
      const wp = w64.slice(),
        wm = w64.slice();
      wp[j] += h;
      wm[j] -= h;
      const fd = (meanLoss(wp) - meanLoss(wm)) / (2 * h);
      expect(Math.abs(-delta[j] / lr - fd)).toBeLessThan(2e-4);
    }
  });
});

describe('trainLocal: addon vs reference', () => {
  test('property: same delta (within tolerance) and statistics for random specs, data and settings', async () => {
    await fc.assert(
      fc.asyncProperty(
        specArb,
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 1e6 }),
        fc.boolean(),
        fc.record({
          q: fc.double({ min: 0.05, max: 1, noNaN: true }),
          sigma: fc.constantFrom(0, 0.5, 1.3),
          clip: fc.double({ min: 0.01, max: 3, noNaN: true }),
          batch: fc.integer({ min: 1, max: 50 }),
          momentum: fc.constantFrom(0, 0.9),
          mu: fc.constantFrom(0, 0.1),
          threads: fc.constantFrom(1, 2),
        }),
        async (spec, n, salt, dp, s) => {
          const weights = randomFloats(parameterCount(spec), salt, 0.5);
          const features = randomFloats(n * spec.inputSize, salt + 1);
          const labels = labelsFor(spec, n, salt + 2);
          const o = {
            spec,
            weights,
            features,
            labels,
            steps: 3,
            learningRate: 0.1,
            momentum: s.momentum,
            proximalMu: s.mu,
            seed: seedOf(salt),
            privacy: dp
              ? ({ mode: 'dp', sampleRate: s.q, noiseMultiplier: s.sigma, clipNorm: s.clip } as const)
              : ({ mode: 'none', batchSize: s.batch } as const),
          };
          const native = await trainLocal({ ...o, threads: s.threads });
          const ref = reference.trainLocal(o);
          // Snapping can round the two noisy sums to neighbouring grid points: one grid step of difference.
          const grid = dp && s.sigma > 0 ? reference.gaussianGrid(s.sigma * s.clip) / (s.q * n) : 0;
          const tol = TRAIN_TOL + 3 * 0.1 * 2 * grid;
          expect(maxAbsDiff(native.delta, ref.delta)).toBeLessThan(tol);
          expect(native.stats.steps).toBe(3);
          expect(native.stats.meanBatchSize).toBe(ref.stats.meanBatchSize);
          if (Number.isNaN(ref.stats.loss))
            expect(native.stats.loss).toBeNaN(); // no example was sampled
          else expect(native.stats.loss).toBeCloseTo(ref.stats.loss, 4);
          if (!dp || s.clip > 0.02)
            expect(Math.abs(native.stats.fractionClipped - ref.stats.fractionClipped)).toBeLessThan(0.05);
        },
      ),
      { numRuns: 60 },
    );
  });

  test('after clipping every example gradient norm (explicit, reference) is <= C, and the addon agrees', async () => {
    const spec: ModelSpec = {
      inputSize: 6,
      layers: [
        { units: 8, activation: 'relu' },
        { units: 4, activation: 'none' },
      ],
      loss: 'mse',
    };
    const n = 30;
    const o = {
      spec,
      weights: randomFloats(parameterCount(spec), 5, 1),
      features: randomFloats(n * 6, 6, 3),
      labels: labelsFor(spec, n, 7),
      steps: 4,
      learningRate: 0.05,
      privacy: { mode: 'dp', sampleRate: 0.5, noiseMultiplier: 0, clipNorm: 0.1 } as const,
      seed: seedOf('clip'),
    };
    const ref = reference.trainLocal(o);
    const norms = ref.clippedNorms.flat();
    expect(norms.length).toBeGreaterThan(20);
    for (const v of norms) expect(v).toBeLessThanOrEqual(0.1 * (1 + 1e-12));
    expect(ref.stats.fractionClipped).toBeGreaterThan(0.5);
    const native = await trainLocal(o);
    expect(maxAbsDiff(native.delta, ref.delta)).toBeLessThan(1e-6);
    expect(native.stats.fractionClipped).toBeCloseTo(ref.stats.fractionClipped, 10);
  });

  test('Poisson batches: the addon uses exactly the reference batches (mean batch size matches)', async () => {
    const spec: ModelSpec = { inputSize: 2, layers: [{ units: 1, activation: 'none' }], loss: 'mse' };
    const n = 1000;
    const o = {
      spec,
      weights: new Float32Array(3),
      features: randomFloats(2 * n, 1),
      labels: randomFloats(n, 2),
      steps: 20,
      learningRate: 0,
      privacy: { mode: 'dp', sampleRate: 0.01, noiseMultiplier: 1, clipNorm: 1 } as const,
      seed: seedOf('poisson'),
    };
    const native = await trainLocal(o);
    const batches = Array.from({ length: 20 }, (_, s) => reference.poissonBatch(o.seed, s, n, 0.01));
    expect(native.stats.meanBatchSize).toBe(batches.flat().length / 20);
    // Batch sizes vary (Poisson sampling, not fixed-size batches).
    expect(new Set(batches.map((b) => b.length)).size).toBeGreaterThan(3);
  });

  test('non-private mode: shuffled batches without replacement within an epoch, no noise', async () => {
    const spec: ModelSpec = { inputSize: 3, layers: [{ units: 2, activation: 'none' }], loss: 'mse' };
    const n = 12;
    const o = {
      spec,
      weights: randomFloats(8, 3),
      features: randomFloats(3 * n, 4),
      labels: randomFloats(2 * n, 5),
      steps: 6,
      learningRate: 0.1,
      privacy: { mode: 'none', batchSize: 4 } as const,
      seed: seedOf('np'),
    };
    const ref = reference.trainLocal(o);
    expect(
      ref.batches
        .slice(0, 3)
        .flat()
        .sort((a, b) => a - b),
    ).toEqual([...Array(12).keys()]);
    const native = await trainLocal(o);
    expect(maxAbsDiff(native.delta, ref.delta)).toBeLessThan(1e-6);
    // Deterministic under a seed, different under another.
    expect((await trainLocal(o)).delta).toEqual(native.delta);
    expect((await trainLocal({ ...o, seed: seedOf('np2') })).delta).not.toEqual(native.delta);
  });

  test('DP noise in trainLocal: with zero gradients, delta = -lr snap(sigma C z) / (q n), N(0, (lr sigma C / q n)^2)', async () => {
    // Zero weights, inputs and MSE targets: every example's gradient is exactly 0, so the update is pure noise.
    const spec: ModelSpec = { inputSize: 200, layers: [{ units: 100, activation: 'none' }], loss: 'mse' };
    const n = 50;
    const [q, sigma, C, lr] = [0.2, 1.3, 0.7, 0.5];
    const { delta } = await trainLocal({
      spec,
      weights: new Float32Array(parameterCount(spec)),
      features: new Float32Array(n * 200),
      labels: new Float32Array(n * 100),
      steps: 1,
      learningRate: lr,
      privacy: { mode: 'dp', sampleRate: q, noiseMultiplier: sigma, clipNorm: C },
      seed: seedOf('dp-noise'),
    });
    const sd = (lr * sigma * C) / (q * n);
    const m = delta.length;
    const mean = delta.reduce((s, v) => s + v, 0) / m;
    const variance = delta.reduce((s, v) => s + (v - mean) ** 2, 0) / (m - 1);
    // 20100 coordinates; bounds at 4.89 standard errors (two-sided p = 1e-6 each).
    expect(Math.abs(mean)).toBeLessThan((4.89 * sd) / Math.sqrt(m));
    expect(Math.abs(variance / sd ** 2 - 1)).toBeLessThan(4.89 * Math.sqrt(2 / (m - 1)));
    // Each released coordinate is a grid point of sigma C, scaled by -lr / (q n).
    const grid = reference.gaussianGrid(sigma * C);
    for (const v of delta.subarray(0, 500)) {
      const k = (-v * q * n) / lr / grid;
      expect(Math.abs(k - Math.round(k))).toBeLessThan(0.02); // float32 rounding of delta only
    }
  });

  test('the input weights are not modified', async () => {
    const spec: ModelSpec = { inputSize: 3, layers: [{ units: 2, activation: 'none' }], loss: 'mse' };
    const weights = randomFloats(8, 3);
    const copy = weights.slice();
    await trainLocal({
      spec,
      weights,
      features: randomFloats(9, 1),
      labels: randomFloats(6, 2),
      steps: 3,
      learningRate: 0.5,
      privacy: { mode: 'dp', sampleRate: 1, noiseMultiplier: 1, clipNorm: 1 },
    });
    expect(weights).toEqual(copy);
  });
});

describe('trainLocal: class weight before clipping', () => {
  const spec: ModelSpec = {
    inputSize: 5,
    layers: [
      { units: 3, activation: 'tanh' },
      { units: 1, activation: 'none' },
    ],
    loss: 'sigmoid-binary-cross-entropy',
  };
  const weights = randomFloats(parameterCount(spec), 7, 0.5);
  // One example, sample rate 1, no noise, lr 1, one step: delta = -(clipped gradient) exactly (divisor q n = 1).
  const step = (features: Float32Array, label: number, clipNorm: number, classWeight?: number) =>
    trainLocal({
      spec,
      weights,
      features,
      labels: Float32Array.of(label),
      steps: 1,
      learningRate: 1,
      classWeight,
      privacy: { mode: 'dp', sampleRate: 1, noiseMultiplier: 0, clipNorm },
      seed: seedOf('class-weight'),
    });
  const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

  test('property: weight w on a positive example = the unweighted gradient times w; negatives unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1e6 }),
        fc.double({ min: 0.05, max: 20, noNaN: true }),
        fc.constantFrom(0, 1),
        async (salt, w, label) => {
          const x = randomFloats(5, salt);
          const plain = (await step(x, label, 1e6)).delta;
          const weighted = (await step(x, label, 1e6, w)).delta;
          const factor = label === 1 ? w : 1;
          for (let j = 0; j < plain.length; j++)
            expect(Math.abs(weighted[j] - factor * plain[j])).toBeLessThan(1e-6 * (1 + Math.abs(factor * plain[j])));
        },
      ),
      { numRuns: 40 },
    );
  });

  test('property: clipping comes after the weight, so the norm is still <= C (and the direction is kept)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1e6 }),
        fc.double({ min: 0.05, max: 50, noNaN: true }),
        fc.double({ min: 0.001, max: 2, noNaN: true }),
        async (salt, w, clip) => {
          const x = randomFloats(5, salt);
          const unclipped = (await step(x, 1, 1e6, w)).delta; // w g
          const clipped = (await step(x, 1, clip, w)).delta;
          const n = norm(unclipped);
          // float32 delta = w_after - w_before: absolute rounding ~1e-7 per coordinate at weights ~0.5
          expect(norm(clipped)).toBeLessThanOrEqual(clip * (1 + 1e-5) + 1e-6);
          const expected = n > clip ? clip / n : 1; // min(1, C / ||w g||) w g
          for (let j = 0; j < clipped.length; j++)
            expect(Math.abs(clipped[j] - expected * unclipped[j])).toBeLessThan(1e-6 + 1e-5 * Math.abs(unclipped[j]));
        },
      ),
      { numRuns: 40 },
    );
  });

  test('a large weight on a clipped positive only reaches C: the weight cannot raise the sensitivity', async () => {
    const x = randomFloats(5, 3);
    const plain = norm((await step(x, 1, 0.01)).delta);
    const heavy = norm((await step(x, 1, 0.01, 1000)).delta);
    expect(plain).toBeCloseTo(0.01, 6);
    expect(heavy).toBeCloseTo(0.01, 6);
  });
});

describe('predict and evaluate', () => {
  test('property: equal to the reference forward pass', async () => {
    await fc.assert(
      fc.asyncProperty(
        specArb,
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 1e6 }),
        async (spec, n, salt) => {
          const w = randomFloats(parameterCount(spec), salt, 0.7);
          const x = randomFloats(n * spec.inputSize, salt + 1);
          const y = labelsFor(spec, n, salt + 2);
          expect(maxAbsDiff(await predict(spec, w, x), reference.predict(spec, w, x))).toBeLessThan(1e-5);
          const a = await evaluate(spec, w, x, y);
          const r = reference.evaluate(spec, w, x, y);
          expect(a.loss).toBeCloseTo(r.loss, 4);
          expect(Math.abs(a.accuracy - r.accuracy)).toBeLessThan(2 / n + 1e-9);
        },
      ),
      { numRuns: 30 },
    );
  });
});
