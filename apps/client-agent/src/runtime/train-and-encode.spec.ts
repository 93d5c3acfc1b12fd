import { dequantize } from '@concord/native';
import type { TrainingPlan } from '@concord/protocol';
import { describe, expect, it } from 'vitest';
import type { Execution } from './plan-decision.js';
import { trainAndEncode } from './train-and-encode.js';

const spec = { inputSize: 2, layers: [{ units: 1, activation: 'none' }], loss: 'sigmoid-binary-cross-entropy' };
const plan = { model: { spec, parameterCount: 3, sha256: '0'.repeat(64) } } as unknown as Pick<TrainingPlan, 'model'>;
// all positives, q = 1, no noise, a clip no gradient reaches: the update is -(mean gradient), weighted or not
const data = {
  features: Float32Array.of(0.5, -0.25, 0.1, 0.3),
  labels: Float32Array.of(1, 1),
  count: 2,
  featureCount: 2,
};
const local = (classWeight: number): Execution => ({
  mode: 'local',
  sampleRate: 1,
  noiseMultiplier: 0,
  steps: 1,
  clipNorm: 100,
  learningRate: 0.1,
  momentum: 0,
  proximalMu: 0,
  classWeight,
  encoding: { clip: 1, scaleBits: 20 },
});

describe('trainAndEncode: the decided class weight reaches the kernel', () => {
  it('a weight of 3 on positive rows triples the encoded local update', async () => {
    const weights = new Float32Array(3);
    const decode = async (w: number) =>
      dequantize((await trainAndEncode(plan, local(w), weights, data)).encoded, { scaleBits: 20 });
    const plain = await decode(1);
    const weighted = await decode(3);
    expect(Math.abs(plain[2])).toBeGreaterThan(0.01); // the bias moved
    for (let j = 0; j < 3; j++) expect(weighted[j]).toBeCloseTo(3 * plain[j], 5); // stochastic rounding: 2^-20
  });
});
