import { describe, expect, test } from 'vitest';
import { trainWithCanaries } from '../lib/audit.js';
import { trainLocal, type ModelSpec } from '../lib/index.js';
import { seedOf } from './helpers.js';

// Linear model on 4 features whose last one is always 0 in the real data: the weights of that column (indices 3
// and 7, layout [out x in] then bias) get no gradient from real records, so they carry only canary signal + noise.
const spec: ModelSpec = { inputSize: 4, layers: [{ units: 2, activation: 'none' }], loss: 'softmax-cross-entropy' };
const n = 64;
const features = new Float32Array(n * 4);
const labels = new Float32Array(n);
for (let i = 0; i < n; i++) {
  for (let j = 0; j < 3; j++) features[i * 4 + j] = Math.sin(i * 7 + j * 3);
  labels[i] = i % 2;
}
const weights = new Float32Array(10).fill(0.05);
const dead = Uint32Array.from([3, 7]);
const base = { spec, weights, features, labels, learningRate: 1, clipNorm: 0.5 };

describe('audit canaries in the native DP-SGD kernel', () => {
  test('q = 1, no noise: each canary adds exactly C on its coordinate; nothing else moves', async () => {
    const seed = seedOf(1);
    const a = await trainWithCanaries({
      ...base,
      steps: 1,
      sampleRate: 1,
      noiseMultiplier: 0,
      canaryCoordinates: dead,
      seed,
    });
    const b = await trainLocal({
      ...base,
      steps: 1,
      privacy: { mode: 'dp', sampleRate: 1, noiseMultiplier: 0, clipNorm: 0.5 },
      seed,
    });
    for (let j = 0; j < 10; j++) {
      if (j === 3 || j === 7) expect(a.delta[j]).toBeCloseTo(-0.5 / n, 7);
      else expect(a.delta[j]).toBe(b.delta[j]);
    }
    expect(b.delta[3]).toBe(0);
    expect(a.stats.meanBatchSize).toBe(n + 2);
  });

  test('canaries go through the same Poisson sampler: rate q, real batches unchanged', async () => {
    const seed = seedOf(2);
    const steps = 400;
    const q = 0.5;
    const coords = Uint32Array.from([3, 7]);
    const a = await trainWithCanaries({
      ...base,
      steps,
      sampleRate: q,
      noiseMultiplier: 0,
      canaryCoordinates: coords,
      seed,
      learningRate: 0,
    });
    expect(a.delta.every((v) => v === 0)).toBe(true);
    // lr 1 but tiny clip so the live weights barely move; canary hits = -delta * q n / C
    const c = await trainWithCanaries({
      ...base,
      steps,
      sampleRate: q,
      noiseMultiplier: 0,
      canaryCoordinates: coords,
      seed,
    });
    const real = await trainLocal({
      ...base,
      steps,
      privacy: { mode: 'dp', sampleRate: q, noiseMultiplier: 0, clipNorm: 0.5 },
      seed,
    });
    for (const j of [0, 1, 2, 4, 5, 6, 8, 9]) expect(c.delta[j]).toBe(real.delta[j]);
    for (const j of [3, 7]) {
      const hits = (-c.delta[j] * q * n) / 0.5;
      expect(Math.abs(hits - Math.round(hits))).toBeLessThan(1e-2);
      expect(Math.abs(hits - steps * q)).toBeLessThan(6 * Math.sqrt(steps * q * (1 - q)));
    }
    expect(c.delta[3]).not.toBe(c.delta[7]); // independent draws per canary
  });

  test('with noise the canary coordinate is noisy (the noise really is added there)', async () => {
    const a = await trainWithCanaries({
      ...base,
      steps: 1,
      sampleRate: 1,
      noiseMultiplier: 4,
      canaryCoordinates: dead,
      seed: seedOf(3),
    });
    expect(Math.abs(a.delta[3] + 0.5 / n)).toBeGreaterThan(1e-6);
  });

  test('trainLocal (the plan path) has no canary option: an extra field changes nothing', async () => {
    const seed = seedOf(4);
    const privacy = { mode: 'dp' as const, sampleRate: 0.5, noiseMultiplier: 1, clipNorm: 0.5 };
    const plain = await trainLocal({ ...base, steps: 3, privacy, seed });
    const withField = await trainLocal({ ...base, steps: 3, privacy, seed, canaryCoordinates: dead } as Parameters<
      typeof trainLocal
    >[0]);
    expect([...withField.delta]).toEqual([...plain.delta]);
  });

  test('bad input is refused with a code before any work', async () => {
    const o = { ...base, steps: 1, sampleRate: 1, noiseMultiplier: 0 };
    await expect(trainWithCanaries({ ...o, canaryCoordinates: Uint32Array.from([10]) })).rejects.toMatchObject({
      name: 'RangeError',
      code: 'E_INVALID_ARGUMENT',
    });
    await expect(trainWithCanaries({ ...o, canaryCoordinates: [3] as unknown as Uint32Array })).rejects.toBeInstanceOf(
      TypeError,
    );
    await expect(trainWithCanaries({ ...o, noiseMultiplier: -1, canaryCoordinates: dead })).rejects.toBeInstanceOf(
      RangeError,
    );
  });
});

describe('audit canaries with the distributed clipped sum', () => {
  test('clippedSum (double) carries the canaries exactly like the float update', async () => {
    const seed = seedOf(5);
    const o = { ...base, steps: 1, sampleRate: 1, noiseMultiplier: 0, canaryCoordinates: dead, seed, clippedSum: true };
    const a = await trainWithCanaries(o);
    expect(a.clippedSum![3]).toBe(0.5);
    expect(a.clippedSum![7]).toBe(0.5);
    const b = await trainLocal({
      ...base,
      steps: 1,
      privacy: { mode: 'dp', sampleRate: 1, noiseMultiplier: 0, clipNorm: 0.5 },
      seed,
      clippedSum: true,
    });
    for (const j of [0, 1, 2, 4, 5, 6, 8, 9]) expect(a.clippedSum![j]).toBe(b.clippedSum![j]);
    await expect(trainWithCanaries({ ...o, steps: 2 })).rejects.toBeInstanceOf(RangeError);
  });

  test('checks its data exactly as trainLocal does: a softmax label outside [0, classes) is refused before C++', async () => {
    const bad = labels.slice();
    bad[5] = 2;
    const options = { ...base, labels: bad, steps: 1, sampleRate: 1, noiseMultiplier: 0, canaryCoordinates: dead };
    await expect(trainWithCanaries(options)).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
    await expect(
      trainLocal({ ...options, privacy: { mode: 'dp', sampleRate: 1, noiseMultiplier: 0, clipNorm: 0.5 } }),
    ).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
  });
});
