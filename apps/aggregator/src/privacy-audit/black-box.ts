/**
 * Black-box audit (for completeness; loose by design): input-space canaries, records drawn like the real ones but
 * with flipped labels, included by the coins as ordinary training records of one site running local DP-SGD (the
 * plain `trainLocal` path: no injection needed). The auditor sees only the final model and scores each canary by
 * minus its cross-entropy loss. Such canaries share every weight with the real data, so the bound is far below the
 * white-box one: it measures what a model user could learn, not the mechanism's worst case.
 */
import { predict, trainLocal } from '@concord/native';
import { CLIP_NORM, type AuditOptions, type Charge } from './config.js';
import { deriveSeed, syntheticRecords, type AuditModel } from './synthetic.js';

const LEARNING_RATE = 0.5;

export async function runBlackBox(
  o: AuditOptions,
  model: AuditModel,
  coins: boolean[],
  charge: Charge,
  weights: Float32Array,
  onRound: (round: number) => void,
): Promise<Float64Array> {
  const input = model.spec.inputSize;
  const real = await syntheticRecords(o.records, input, deriveSeed(o.seed, 'data', 0));
  const canaries = await syntheticRecords(coins.length, input, deriveSeed(o.seed, 'black-box-canaries', 0), true);
  const inc = coins.map((c, i) => (c ? i : -1)).filter((i) => i >= 0);
  const n = o.records + inc.length;
  const features = new Float32Array(n * input);
  const labels = new Float32Array(n);
  features.set(real.features);
  labels.set(real.labels);
  inc.forEach((c, k) => {
    features.set(canaries.features.subarray(c * input, (c + 1) * input), (o.records + k) * input);
    labels[o.records + k] = canaries.labels[c];
  });
  const w = weights.slice();
  for (let r = 0; r < o.rounds; r++) {
    const { delta } = await trainLocal({
      spec: model.spec,
      weights: w,
      features,
      labels,
      steps: o.steps,
      learningRate: LEARNING_RATE,
      privacy: {
        mode: 'dp',
        sampleRate: o.sampleRate,
        noiseMultiplier: o.removeNoise ? 0 : charge.noiseMultiplier,
        clipNorm: CLIP_NORM,
      },
      seed: deriveSeed(o.seed, 'black-box-round', r),
      threads: o.threads,
    });
    for (let j = 0; j < w.length; j++) w[j] += delta[j];
    onRound(r + 1);
  }
  const logits = await predict(model.spec, w, canaries.features, o.threads);
  const scores = new Float64Array(coins.length);
  for (let i = 0; i < coins.length; i++) {
    const a = logits[2 * i];
    const b = logits[2 * i + 1];
    const mx = Math.max(a, b);
    const lse = mx + Math.log(Math.exp(a - mx) + Math.exp(b - mx));
    scores[i] = (canaries.labels[i] === 1 ? b : a) - lse; // minus the cross-entropy loss
  }
  return scores;
}
