import { describe, expect, test } from 'vitest';
import { loadBinding } from '../lib/addon.js';
import {
  discreteGaussian,
  evaluate,
  gaussianNoise,
  maskAdd,
  NativeError,
  predict,
  quantize,
  trainLocal,
  validateSpec,
  type ModelSpec,
  type TrainOptions,
} from '../lib/index.js';
import { seedOf } from './helpers.js';

const spec: ModelSpec = {
  inputSize: 3,
  layers: [
    { units: 4, activation: 'relu' },
    { units: 2, activation: 'none' },
  ],
  loss: 'softmax-cross-entropy',
};
const P = 3 * 4 + 4 + 4 * 2 + 2;
const good = (): TrainOptions => ({
  spec,
  weights: new Float32Array(P).fill(0.1),
  features: new Float32Array(5 * 3).fill(0.5),
  labels: Float32Array.from([0, 1, 0, 1, 1]),
  steps: 2,
  learningRate: 0.1,
  privacy: { mode: 'dp', sampleRate: 0.5, noiseMultiplier: 1, clipNorm: 1 },
  seed: seedOf('err'),
});

async function rejects(
  p: () => Promise<unknown>,
  kind: typeof TypeError | typeof RangeError,
  code: string,
  name: string,
) {
  const err = await p().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(kind);
  expect((err as { code: string }).code).toBe(code);
  expect((err as Error).message).toContain(name);
}

describe('facade guards: coded TypeError / RangeError before C++', () => {
  test('specs', () => {
    expect(() => validateSpec(null)).toThrow(TypeError);
    expect(() => validateSpec({ ...spec, inputSize: 0 })).toThrow(RangeError);
    expect(() => validateSpec({ ...spec, layers: [{ units: 2, activation: 'sigmoid' }] })).toThrow(/activation/);
    expect(() => validateSpec({ ...spec, loss: 'hinge' })).toThrow(/loss/);
    expect(() => validateSpec({ ...spec, layers: [] })).toThrow(RangeError);
    try {
      validateSpec({ ...spec, inputSize: 1.5 });
    } catch (e) {
      expect((e as { code: string }).code).toBe('E_INVALID_SPEC');
    }
  });

  test('a spec that does not match the weights: E_SPEC_MISMATCH', async () => {
    await rejects(
      () => trainLocal({ ...good(), weights: new Float32Array(P + 1) }),
      RangeError,
      'E_SPEC_MISMATCH',
      'weights',
    );
    await rejects(
      () => predict(spec, new Float32Array(3), new Float32Array(3)),
      RangeError,
      'E_SPEC_MISMATCH',
      'weights',
    );
  });

  test('wrong lengths and types', async () => {
    await rejects(
      () => trainLocal({ ...good(), features: new Float32Array(14) }),
      RangeError,
      'E_INVALID_ARGUMENT',
      'features',
    );
    await rejects(
      () => trainLocal({ ...good(), labels: new Float32Array(4) }),
      RangeError,
      'E_INVALID_ARGUMENT',
      'labels',
    );
    await rejects(
      () => trainLocal({ ...good(), labels: Float32Array.from([0, 1, 2, 0, 0]) }),
      RangeError,
      'E_INVALID_ARGUMENT',
      'labels',
    );
    await rejects(
      () => trainLocal({ ...good(), features: [1, 2, 3] as unknown as Float32Array }),
      TypeError,
      'E_INVALID_ARGUMENT',
      'features',
    );
    await rejects(() => trainLocal({ ...good(), seed: new Uint8Array(31) }), RangeError, 'E_INVALID_ARGUMENT', 'seed');
    await rejects(() => trainLocal({ ...good(), steps: -1 }), RangeError, 'E_INVALID_ARGUMENT', 'steps');
    await rejects(() => trainLocal({ ...good(), threads: 0 }), RangeError, 'E_INVALID_ARGUMENT', 'threads');
    await rejects(
      () => maskAdd(new Int32Array(4) as unknown as Uint32Array, seedOf(1), 1),
      TypeError,
      'E_INVALID_ARGUMENT',
      'acc',
    );
    await rejects(() => maskAdd(new Uint32Array(4), seedOf(1), 2 as 1), RangeError, 'E_INVALID_ARGUMENT', 'sign');
    await rejects(() => maskAdd(new Uint32Array(4), new Uint8Array(16), 1), RangeError, 'E_INVALID_ARGUMENT', 'seed');
  });

  test('NaN / Infinity in weights, data or values: E_NON_FINITE', async () => {
    const w = good().weights.slice();
    w[3] = NaN;
    await rejects(() => trainLocal({ ...good(), weights: w }), RangeError, 'E_NON_FINITE', 'weights');
    const f = good().features.slice();
    f[7] = Infinity;
    await rejects(() => trainLocal({ ...good(), features: f }), RangeError, 'E_NON_FINITE', 'features');
    await rejects(
      () => evaluate(spec, good().weights, good().features, Float32Array.from([0, 1, NaN, 1, 1])),
      RangeError,
      'E_NON_FINITE',
      'labels',
    );
    await rejects(
      () => quantize(Float32Array.from([1, NaN]), { clip: 1, scaleBits: 8 }),
      RangeError,
      'E_NON_FINITE',
      'values',
    );
    await rejects(() => trainLocal({ ...good(), learningRate: NaN }), RangeError, 'E_NON_FINITE', 'learningRate');
  });

  test('DP parameters: q outside (0, 1], C <= 0, sigma < 0', async () => {
    const dp = (p: Record<string, number>) =>
      trainLocal({ ...good(), privacy: { mode: 'dp', sampleRate: 0.5, noiseMultiplier: 1, clipNorm: 1, ...p } });
    for (const q of [0, -0.1, 1.0001])
      await rejects(() => dp({ sampleRate: q }), RangeError, 'E_INVALID_ARGUMENT', 'sampleRate');
    for (const c of [0, -1]) await rejects(() => dp({ clipNorm: c }), RangeError, 'E_INVALID_ARGUMENT', 'clipNorm');
    await rejects(() => dp({ noiseMultiplier: -1 }), RangeError, 'E_INVALID_ARGUMENT', 'noiseMultiplier');
    await rejects(
      () => trainLocal({ ...good(), privacy: { mode: 'maybe' } as never }),
      RangeError,
      'E_INVALID_ARGUMENT',
      'privacy.mode',
    );
  });

  test('classWeight: a finite number in (0, 1e6), only for the sigmoid binary cross-entropy loss, CPU only', async () => {
    const bce: ModelSpec = {
      inputSize: 3,
      layers: [{ units: 1, activation: 'none' }],
      loss: 'sigmoid-binary-cross-entropy',
    };
    const ok = (): TrainOptions => ({
      ...good(),
      spec: bce,
      weights: new Float32Array(4),
      labels: new Float32Array(5),
    });
    await rejects(
      () => trainLocal({ ...ok(), classWeight: '2' as never }),
      TypeError,
      'E_INVALID_ARGUMENT',
      'classWeight',
    );
    for (const w of [NaN, Infinity])
      await rejects(() => trainLocal({ ...ok(), classWeight: w }), RangeError, 'E_NON_FINITE', 'classWeight');
    for (const w of [0, -1, 1e6])
      await rejects(() => trainLocal({ ...ok(), classWeight: w }), RangeError, 'E_INVALID_ARGUMENT', 'classWeight');
    await rejects(() => trainLocal({ ...good(), classWeight: 2 }), RangeError, 'E_INVALID_ARGUMENT', 'classWeight');
    await rejects(
      () => trainLocal({ ...ok(), classWeight: 2, device: 'cuda' }),
      RangeError,
      'E_INVALID_ARGUMENT',
      'classWeight',
    );
    await expect(trainLocal({ ...ok(), classWeight: 2 })).resolves.toHaveProperty('delta');
    await expect(trainLocal({ ...good(), classWeight: 1 })).resolves.toHaveProperty('delta'); // 1 is "no weight"
  });

  test('samplers and quantize ranges', async () => {
    await rejects(() => gaussianNoise(10, 0), RangeError, 'E_INVALID_ARGUMENT', 'sigma');
    await rejects(() => gaussianNoise(-1, 1), RangeError, 'E_INVALID_ARGUMENT', 'count');
    await rejects(() => discreteGaussian(10, 2 ** 41), RangeError, 'E_INVALID_ARGUMENT', 'sigmaSquared');
    await rejects(
      () => quantize(new Float32Array(2), { clip: 2 ** 20, scaleBits: 12 }),
      RangeError,
      'E_INVALID_ARGUMENT',
      'clip',
    );
  });

  test('divergence inside C++ surfaces as NativeError E_NON_FINITE with a JS stack', async () => {
    const err = await trainLocal({
      ...good(),
      spec: { inputSize: 3, layers: [{ units: 2, activation: 'none' }], loss: 'mse' },
      weights: new Float32Array(8).fill(1),
      features: new Float32Array(15).fill(1e18),
      labels: new Float32Array(10),
      learningRate: 1e30,
      privacy: { mode: 'none', batchSize: 5 },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NativeError);
    expect((err as NativeError).code).toBe('E_NON_FINITE');
    expect((err as Error).stack).toContain('errors.test.ts');
  });
});

describe('the addon itself rejects bad direct calls without crashing', () => {
  const b = loadBinding();
  const enc = Int32Array.from([3, 2, 4, 2, 0, 2, 0]);
  test('wrong types, lengths and encodings', async () => {
    expect(() => b.maskAdd(new Float32Array(4) as unknown as Uint32Array, seedOf(1), 1)).toThrow(/acc/);
    expect(() => b.maskAdd(new Uint32Array(4), new Uint8Array(3), 1)).toThrow(/seed/);
    expect(() => b.predict(enc, new Float32Array(P - 1), new Float32Array(3), 1, 1)).toThrow(/spec/);
    expect(() => b.predict(enc, new Float32Array(P), new Float32Array(3), 2, 1)).toThrow(/length/);
    expect(() => b.predict(Int32Array.from([3, 9, 4]), new Float32Array(P), new Float32Array(3), 1, 1)).toThrow(/spec/);
    expect(() => b.gaussianNoise(10, -1, undefined, 1)).toThrow(/sigma/);
    expect(() => b.quantize(new Float32Array(1), 1e9, 30)).toThrow(/2\^31/);
    const opts = {
      steps: 1,
      learningRate: 0.1,
      momentum: 0,
      proximalMu: 0,
      threads: 1,
      dp: true,
      sampleRate: 2,
      noiseMultiplier: 1,
      clipNorm: 1,
      batchSize: 1,
    };
    expect(() => b.trainLocal(enc, new Float32Array(P), new Float32Array(3), new Float32Array(1), 1, opts)).toThrow(
      /options/,
    );
    // Class index out of range reaches C++ only by a direct call: it is rejected there with a code.
    const ok = { ...opts, sampleRate: 1 };
    await expect(
      b.trainLocal(enc, new Float32Array(P), new Float32Array(3), Float32Array.from([5]), 1, ok),
    ).rejects.toMatchObject({
      code: 'E_INVALID_ARGUMENT',
    });
    // NaN inside quantize's values when called directly.
    await expect(b.quantize(Float32Array.from([NaN]), 1, 4)).rejects.toMatchObject({ code: 'E_NON_FINITE' });
  });
});
