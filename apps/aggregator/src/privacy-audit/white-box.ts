/**
 * White-box audit runs: the auditor is the aggregator and sees every round's released update; a canary's score is
 * the accumulated projection of the released updates on its direction (its own weight), in units of its clipped
 * gradient, so an included canary scores about (number of times it was sampled) and an excluded one about 0,
 * each plus the mechanism's noise.
 *
 * - local: one site runs DP-SGD with the canaries (native kernel, @concord/native/audit) and releases its delta
 *   each round; the audit reads the site's own released updates (in a cohort sum, other sites' noise would hide
 *   the canaries and say nothing about this site's guarantee).
 * - distributed: `sites` sites each send the real @concord/secagg `encodeSiteSum` of their clipped-gradient sum
 *   (clamp, scale 2^s, plain randomized rounding, discrete Gaussian share of variance (z C 2^s)^2 / sites), the
 *   canaries at site 0; the released value is the modular sum of exactly the accounted number of honest shares,
 *   which is what SecAgg+ unmasks (the pairwise masks cancel in the sum, so they are left out here).
 */
import { trainLocal } from '@concord/native';
import { trainWithCanaries } from '@concord/native/audit';
import { distributedGradientClip, wordsToReals } from '@concord/protocol';
import { encodeSiteSum } from '@concord/secagg';
import { CLIP_NORM, COUNT_WEIGHT, distributedPlan, SCALE_BITS, type AuditOptions, type Charge } from './config.js';
import { deriveSeed, syntheticRecords, type AuditModel } from './synthetic.js';

const LOCAL_LEARNING_RATE = 0.5;
const SERVER_LEARNING_RATE = 0.5;

function includedCoordinates(model: AuditModel, coins: boolean[]): Uint32Array {
  const out: number[] = [];
  coins.forEach((inc, i) => inc && out.push(model.canaryCoordinate(i)));
  return Uint32Array.from(out);
}

/** Local mode: returns one score per canary. `onRound` is called after each round (progress). */
export async function runLocalWhiteBox(
  o: AuditOptions,
  model: AuditModel,
  coins: boolean[],
  charge: Charge,
  weights: Float32Array,
  onRound: (round: number) => void,
): Promise<Float64Array> {
  const data = await syntheticRecords(o.records, model.spec.inputSize, deriveSeed(o.seed, 'data', 0));
  const canaryCoordinates = includedCoordinates(model, coins);
  const scores = new Float64Array(coins.length);
  const w = weights.slice();
  const unit = (o.sampleRate * o.records) / (LOCAL_LEARNING_RATE * CLIP_NORM);
  for (let r = 0; r < o.rounds; r++) {
    const { delta } = await trainWithCanaries({
      spec: model.spec,
      weights: w,
      ...data,
      steps: o.steps,
      learningRate: LOCAL_LEARNING_RATE,
      sampleRate: o.sampleRate,
      noiseMultiplier: o.removeNoise ? 0 : charge.noiseMultiplier,
      clipNorm: CLIP_NORM,
      canaryCoordinates,
      seed: deriveSeed(o.seed, 'local-round', r),
      threads: o.threads,
    });
    // The released update is all the auditor reads.
    for (let i = 0; i < scores.length; i++) scores[i] -= delta[model.canaryCoordinate(i)] * unit;
    for (let j = 0; j < w.length; j++) w[j] += delta[j];
    onRound(r + 1);
  }
  return scores;
}

/** Distributed mode: returns one score per canary. */
export async function runDistributedWhiteBox(
  o: AuditOptions,
  model: AuditModel,
  coins: boolean[],
  charge: Charge,
  weights: Float32Array,
  onRound: (round: number) => void,
): Promise<Float64Array> {
  const p = model.parameters;
  const plan = distributedPlan(o, charge.noiseMultiplier, p);
  if (plan.mode !== 'distributed') throw new Error('unreachable');
  const gradientClip = distributedGradientClip(plan);
  const encodingClip = 2 ** 31 / (2 * o.sites * 2 ** SCALE_BITS); // plan-builder.ts: n sites cannot wrap
  const variance = o.removeNoise ? 0 : plan.distributed.localNoiseVariance;
  const sites = await Promise.all(
    Array.from({ length: o.sites }, (_, s) =>
      syntheticRecords(o.records, model.spec.inputSize, deriveSeed(o.seed, 'data', s)),
    ),
  );
  const canaryCoordinates = includedCoordinates(model, coins);
  const scores = new Float64Array(coins.length);
  const w = weights.slice();
  for (let r = 0; r < o.rounds; r++) {
    const total = new Uint32Array(p + 1);
    for (let s = 0; s < o.sites; s++) {
      const common = { spec: model.spec, weights: w, ...sites[s], steps: 1, learningRate: 1, threads: o.threads };
      const seed = deriveSeed(o.seed, `distributed-round/${s}`, r);
      // Exactly the agent's distributed path (client-agent train-and-encode.ts): one Poisson sample, clipped
      // gradients summed in double by the kernel with no local noise; site 0 also holds the canaries.
      const privacy = { sampleRate: o.sampleRate, noiseMultiplier: 0, clipNorm: gradientClip };
      const { clippedSum, stats } =
        s === 0
          ? await trainWithCanaries({ ...common, ...privacy, canaryCoordinates, seed, clippedSum: true })
          : await trainLocal({ ...common, privacy: { mode: 'dp', ...privacy }, seed, clippedSum: true });
      const vector = new Float64Array(p + 1);
      vector.set(clippedSum!);
      vector[p] = COUNT_WEIGHT * stats.meanBatchSize;
      const words = await encodeSiteSum(vector, {
        clip: encodingClip,
        scaleBits: SCALE_BITS,
        localNoiseVariance: variance,
        seed: deriveSeed(o.seed, `encode/${s}`, r),
      });
      for (let j = 0; j <= p; j++) total[j] = (total[j] + words[j]) >>> 0;
    }
    const released = wordsToReals(total, SCALE_BITS);
    for (let i = 0; i < scores.length; i++) scores[i] += released[model.canaryCoordinate(i)] / gradientClip;
    const batch = Math.max(1, released[p] / COUNT_WEIGHT);
    for (let j = 0; j < p; j++) w[j] -= (SERVER_LEARNING_RATE * released[j]) / batch;
    onRound(r + 1);
  }
  return scores;
}
