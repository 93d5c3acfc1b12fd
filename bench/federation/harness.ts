/**
 * In-process federation harness: the maths of a Concord round without sockets, SecAgg or the ledger, for fast
 * tuning experiments. It follows the protocol exactly where the maths is concerned:
 * - local: every site runs native DP-SGD (Poisson rate q over its own records, clip C, noise z C) for its local
 *   steps; the update is fixed-point encoded (clip, 2^scaleBits, stochastic rounding); the server averages the
 *   sites' deltas with equal weights and applies the server optimizer.
 * - distributed: ONE DP-SGD step over the union per round. Each site sums (clipped gradient, countWeight) over a
 *   Poisson sample and encodes it with libs/secagg `encodeSiteSum` (the agent's encoder: scale by 2^s, plain
 *   randomized rounding, a discrete Gaussian share of variance (z C 2^s)^2 / t); the server divides the gradient
 *   sum by the noisy count and applies the server optimizer.
 * - none: local SGD with shuffled batches.
 * Noise for the sites comes from the native CSPRNG (seeded per run for reproducibility here).
 */
import { createHash } from 'node:crypto';
import {
  loadMnist,
  partitionIndices,
  parsePartitionScheme,
  preprocessDataset,
  subset,
  type Dataset,
} from '@concord/datasets';
import { evaluate, initWeights, parameterCount, quantize, trainLocal } from '@concord/native';
import { centreModulo, encodeSiteSum } from '@concord/secagg';
import {
  applyServerOptimizer,
  initialOptimizerState,
  resolveTrainingPlan,
  type ResolvedTrainingPlan,
} from '@concord/fedopt';
import { type FederationSpec } from '@concord/protocol';
import { keptCount, sharedCoordinates, topCoordinates, type Sparsifier } from './sparsify.js';

export interface HarnessResult {
  accuracy: number;
  epsilon: number | null;
  noiseMultiplier: number | null;
  rounds: number;
  seconds: number;
  curve: number[];
  /** the final weights (tables: scored with @concord/datasets binaryMetrics by the caller) */
  weights: Float32Array;
}

function seedBytes(...parts: (string | number)[]): Uint8Array {
  return new Uint8Array(createHash('sha256').update(parts.join('/')).digest());
}

let cachedSplit: { seed: number; train: Dataset; test: Dataset } | undefined;
function mnist(seed: number): { train: Dataset; test: Dataset } {
  if (!cachedSplit || cachedSplit.seed !== seed) cachedSplit = { seed, ...loadMnist({ seed }) };
  return cachedSplit;
}

const preprocessedCache = new Map<string, { trainPre: Dataset; testPre: Dataset }>();
/** The preprocessing is fixed and per record, so one run's output serves every federation of the same split. */
function preprocessed(
  seed: number,
  plan: ResolvedTrainingPlan['preprocess'],
  train: Dataset,
  test: Dataset,
): { trainPre: Dataset; testPre: Dataset } {
  const key = JSON.stringify([seed, plan]);
  let hit = preprocessedCache.get(key);
  if (!hit) {
    hit = { trainPre: preprocessDataset(plan, train), testPre: preprocessDataset(plan, test) };
    preprocessedCache.set(key, hit);
  }
  return hit;
}

/** Runs one federation described by `spec` (already parsed) with `sites` sites; returns the final accuracy. */
export async function runHarness(
  spec: FederationSpec,
  o: {
    sites: number;
    partition: string;
    seed?: number;
    /** split seed (default: seed); tables keep it fixed while the training seed varies */
    splitSeed?: number;
    evalEvery?: number;
    log?: (line: string) => void;
    /** a table already encoded (default: MNIST) and, for by-column partitions, each train row's column value */
    data?: { train: Dataset; test: Dataset; columnValues?: (column: string) => string[] };
    /** a plan resolved once for many seeds (calibration is the slow part) */
    plan?: ResolvedTrainingPlan;
    /** adjusts the initial weights in place (tables: fedopt initializeTableModel, as the engine does) */
    initialize?: (weights: Float32Array) => void;
    /** distributed: each site's per-coordinate clamp, model units (default: the widest 32 bits allow) */
    clamp?: number;
    /** b: the sites' words are summed mod 2^b and decoded centred, as SecAgg+ sums them (default 32) */
    modulusBits?: number;
    /** local / none modes: send only some coordinates (bench/federation/sparsify.ts) */
    sparsify?: Sparsifier;
  },
): Promise<HarnessResult> {
  const started = performance.now();
  const seed = o.seed ?? 0;
  const splitSeed = o.splitSeed ?? seed;
  const { train, test } = o.data ?? mnist(splitSeed);
  const plan: ResolvedTrainingPlan = o.plan ?? resolveTrainingPlan(spec, { cohortSize: o.sites });
  const { trainPre, testPre } = o.data
    ? { trainPre: train, testPre: test }
    : preprocessed(splitSeed, plan.preprocess, train, test);
  const scheme = parsePartitionScheme(o.partition);
  const parts = partitionIndices(train.labels, {
    sites: o.sites,
    scheme,
    seed: splitSeed,
    columnValues: scheme.kind === 'by-column' ? o.data?.columnValues?.(scheme.column) : undefined,
  });
  const shards = parts.map((rows) => subset(trainPre, rows));
  const model = plan.model;
  const p = parameterCount(model);
  let weights = initWeights(model, seedBytes('init', seed));
  o.initialize?.(weights);
  let state = initialOptimizerState(plan.serverOptimizer, p);
  const curve: number[] = [];
  // experiment only: an exponential moving average of the released weights (post-processing, no privacy cost)
  const emaDecay = Number(process.env.CONCORD_EMA ?? 0);
  let ema: Float32Array | undefined;
  const threads = 1;
  const sparsify = o.sparsify;
  if (sparsify && plan.privacy.mode === 'distributed') throw new Error('sparsify: local and none modes only');
  const kept = sparsify ? keptCount(sparsify.fraction, p) : p;
  // top-k's error feedback: what each site did not send yet
  const residuals = sparsify?.kind === 'top-k' ? shards.map(() => new Float32Array(p)) : [];

  /** One site's local training of a round in local or none mode (DP-SGD or plain SGD), as the agent runs it. */
  const siteDelta = async (round: number, s: number): Promise<Float32Array> => {
    const shard = shards[s];
    if (plan.privacy.mode === 'distributed') throw new Error('siteDelta: local and none modes only');
    const privacy =
      plan.privacy.mode === 'local'
        ? {
            mode: 'dp' as const,
            sampleRate: plan.privacy.sampleRate,
            noiseMultiplier: plan.privacy.noiseMultiplier,
            clipNorm: plan.privacy.clipNorm,
          }
        : { mode: 'none' as const, batchSize: plan.privacy.batchSize };
    const { delta } = await trainLocal({
      spec: model,
      weights,
      features: shard.features,
      labels: shard.labels,
      steps: plan.privacy.localSteps,
      learningRate: plan.local.learningRate,
      momentum: plan.local.momentum,
      proximalMu: plan.local.proximalMu,
      classWeight: plan.local.classWeight,
      privacy,
      seed: seedBytes('site', seed, round, s),
      threads,
    });
    return delta;
  };

  /**
   * A sparsified round. shared-seed: the round's k coordinates, the sites' fixed-point words of them summed mod 2^b
   * as SecAgg+ would, scattered back. top-k: each site's k largest of (delta + residual), sent as float32 values
   * with their indices (no SecAgg), averaged by the server; the rest stays in the site's residual.
   */
  const sparseRound = async (sp: Sparsifier, round: number, update: Float32Array): Promise<void> => {
    if (sp.kind === 'shared-seed') {
      const coords = sharedCoordinates(`round/${seed}/${round}`, p, kept);
      const acc = new Uint32Array(kept);
      for (let s = 0; s < shards.length; s++) {
        const delta = await siteDelta(round, s);
        const chosen = new Float32Array(kept);
        for (let j = 0; j < kept; j++) chosen[j] = delta[coords[j]];
        const words = await quantize(chosen, {
          clip: plan.encoding.clip,
          scaleBits: plan.encoding.scaleBits,
          seed: seedBytes('q', seed, round, s),
        });
        for (let j = 0; j < kept; j++) acc[j] = (acc[j] + words[j]) >>> 0;
      }
      centreModulo(acc, o.modulusBits ?? 32);
      const factor = (2 ** -plan.encoding.scaleBits / shards.length) * (sp.rescale ? p / kept : 1);
      for (let j = 0; j < kept; j++) update[coords[j]] = (acc[j] | 0) * factor;
      return;
    }
    const sum = new Float64Array(p);
    for (let s = 0; s < shards.length; s++) {
      const delta = await siteDelta(round, s);
      const residual = residuals[s];
      for (let i = 0; i < p; i++) residual[i] += delta[i];
      for (const i of topCoordinates(residual, kept)) {
        sum[i] += residual[i];
        residual[i] = 0;
      }
    }
    for (let i = 0; i < p; i++) update[i] = sum[i] / shards.length;
  };

  for (let round = 1; round <= plan.rounds; round++) {
    const update = new Float32Array(p);
    if (plan.privacy.mode === 'distributed') {
      const d = plan.privacy;
      const scale = 2 ** d.scaleBits;
      const gradClip = Math.sqrt(d.clipNorm ** 2 - d.countWeight ** 2);
      const sum = new Float64Array(p + 1);
      const acc = new Uint32Array(p + 1); // the sites' words summed mod 2^32, then reduced mod 2^b
      const localVariance = (d.noiseMultiplier * d.clipNorm * scale) ** 2 / d.minNoisyClients;
      for (let s = 0; s < shards.length; s++) {
        const shard = shards[s];
        // lr 1, one step, no noise: delta = -(clipped gradient sum) / (q n)
        const { delta, stats } = await trainLocal({
          spec: model,
          weights,
          features: shard.features,
          labels: shard.labels,
          steps: 1,
          learningRate: 1,
          privacy: { mode: 'dp', sampleRate: d.sampleRate, noiseMultiplier: 0, clipNorm: gradClip },
          classWeight: plan.local.classWeight,
          seed: seedBytes('site', seed, round, s),
          threads,
        });
        const batch = stats.meanBatchSize;
        const record = new Float32Array(p + 1);
        const expected = d.sampleRate * shard.count;
        for (let i = 0; i < p; i++) record[i] = -delta[i] * expected;
        record[p] = d.countWeight * batch;
        const words = await encodeSiteSum(record, {
          clip: o.clamp ?? 2 ** 31 / scale - 1,
          scaleBits: d.scaleBits,
          localNoiseVariance: localVariance,
          seed: seedBytes('encode', seed, round, s),
        });
        for (let i = 0; i <= p; i++) acc[i] = (acc[i] + words[i]) >>> 0;
      }
      centreModulo(acc, o.modulusBits ?? 32);
      for (let i = 0; i <= p; i++) sum[i] = acc[i] | 0;
      const noisyBatch = Math.max(1, sum[p] / scale / d.countWeight);
      for (let i = 0; i < p; i++) update[i] = -sum[i] / scale / noisyBatch;
    } else if (sparsify) {
      await sparseRound(sparsify, round, update);
    } else {
      const acc = new Uint32Array(p);
      for (let s = 0; s < shards.length; s++) {
        const delta = await siteDelta(round, s);
        const words = await quantize(delta, {
          clip: plan.encoding.clip,
          scaleBits: plan.encoding.scaleBits,
          seed: seedBytes('q', seed, round, s),
        });
        for (let i = 0; i < p; i++) acc[i] = (acc[i] + words[i]) >>> 0;
      }
      centreModulo(acc, o.modulusBits ?? 32);
      const scale = 2 ** -plan.encoding.scaleBits;
      for (let i = 0; i < p; i++) update[i] = ((acc[i] | 0) * scale) / shards.length;
    }
    ({ weights, state } = applyServerOptimizer(plan.serverOptimizer, state, weights, update));
    if (emaDecay > 0) {
      ema ??= weights.slice();
      for (let i = 0; i < p; i++) ema[i] = emaDecay * ema[i] + (1 - emaDecay) * weights[i];
    }
    if ((o.evalEvery && round % o.evalEvery === 0) || round === plan.rounds) {
      const { accuracy } = await evaluate(model, ema ?? weights, testPre.features, testPre.labels);
      curve.push(accuracy);
      o.log?.(`round ${round}: accuracy ${(accuracy * 100).toFixed(2)}%`);
    }
  }
  return {
    accuracy: curve[curve.length - 1],
    epsilon: plan.privacy.mode === 'none' ? null : plan.privacy.epsilon,
    noiseMultiplier: plan.privacy.mode === 'none' ? null : plan.privacy.noiseMultiplier,
    rounds: plan.rounds,
    seconds: (performance.now() - started) / 1000,
    curve,
    weights,
  };
}
