/**
 * Runs an evaluation plan's execution (evaluation-decision.ts) on the site's validation split: the model's outputs
 * (native predict), summed into the fixed-length vector of counts (libs/protocol events/evaluation.ts), rounded to
 * the plan's grid per record, then clamped and encoded with the site's discrete Gaussian noise (libs/secagg
 * encodeSiteSum) as the uint32 words SecAgg+ masks. Only this masked vector leaves the site.
 */
import { predict, type ModelSpec } from '@concord/native';
import { evaluationLayout, type TrainingPlan } from '@concord/protocol';
import { encodeSiteSum } from '@concord/secagg';
import type { TrainingData } from './context.js';
import type { EvaluationExecution } from './evaluation-decision.js';
import { derivedSeed } from './train-and-encode.js';

export async function evaluateAndEncode(
  plan: Pick<TrainingPlan, 'model'>,
  x: EvaluationExecution,
  weights: Float32Array,
  validation: TrainingData,
  threads = 1,
  /** simulations only (context.ts reproducibleSeed) */
  seed?: Uint8Array,
): Promise<{ encoded: Uint32Array }> {
  const spec = plan.model.spec as ModelSpec;
  const vector = await countVector(spec, x, weights, validation, threads);
  const encoded = await encodeSiteSum(vector, {
    clip: x.clamp,
    scaleBits: x.scaleBits,
    localNoiseVariance: x.localNoiseVariance,
    seed: seed && derivedSeed(seed, 'encode'),
  });
  vector.fill(0);
  return { encoded };
}

/**
 * The exact (noiseless) count vector of `data` under `weights`. Each record's clipped loss is rounded to the
 * 2^-scaleBits grid, so the whole vector is on the grid and one record moves it by at most the plan's sensitivity
 * (the discrete Gaussian then adds exactly the accounted noise). Exported for simulate's exact reference metric.
 */
export async function countVector(
  spec: ModelSpec,
  x: Pick<EvaluationExecution, 'classes' | 'scoreBins' | 'lossClip' | 'scaleBits'>,
  weights: Float32Array,
  data: TrainingData,
  threads = 1,
): Promise<Float64Array> {
  const layout = evaluationLayout(x.classes, x.scoreBins);
  const vector = new Float64Array(layout.length);
  if (data.count === 0) return vector;
  const outputs = await predict(spec, weights, data.features, threads);
  const width = outputs.length / data.count;
  const labelsPerRow = data.labels.length / data.count;
  const grid = 2 ** x.scaleBits;
  for (let i = 0; i < data.count; i++) {
    const out = outputs.subarray(i * width, (i + 1) * width);
    const { loss, label, predicted, score } = recordOutcome(spec.loss, out, data.labels, i, labelsPerRow);
    vector[layout.lossSum] += Math.round((Math.min(loss, x.lossClip) / x.lossClip) * grid) / grid;
    vector[layout.count] += 1;
    if (x.classes > 0) {
      vector[layout.confusion + label * x.classes + predicted] += 1;
      if (label === predicted) vector[layout.correct] += 1;
    }
    if (x.scoreBins > 0) {
      const bin = Math.min(x.scoreBins - 1, Math.floor(score * x.scoreBins));
      vector[layout.histogram + label * x.scoreBins + bin] += 1;
    }
  }
  return vector;
}

function recordOutcome(
  loss: ModelSpec['loss'],
  out: Float32Array,
  labels: Float32Array,
  row: number,
  labelsPerRow: number,
): { loss: number; label: number; predicted: number; score: number } {
  if (loss === 'softmax-cross-entropy') {
    const label = labels[row];
    let best = 0;
    let max = -Infinity;
    for (let k = 0; k < out.length; k++) if (out[k] > max) [max, best] = [out[k], k];
    let sum = 0;
    for (const v of out) sum += Math.exp(v - max);
    return { loss: max + Math.log(sum) - out[label], label, predicted: best, score: 0 };
  }
  if (loss === 'sigmoid-binary-cross-entropy') {
    const y = labels[row] >= 0.5 ? 1 : 0;
    const z = out[0];
    const score = 1 / (1 + Math.exp(-z));
    // log(1 + e^z) - y z, stable for any z
    const ce = Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
    return { loss: ce, label: y, predicted: score >= 0.5 ? 1 : 0, score };
  }
  let squared = 0;
  for (let k = 0; k < out.length; k++) squared += (out[k] - labels[row * labelsPerRow + k]) ** 2;
  return { loss: squared, label: 0, predicted: 0, score: 0 };
}
