import { quantize, trainLocal, type ModelSpec } from '@concord/native';
import { encodeSiteSum } from '@concord/secagg';
import type { TrainingPlan } from '@concord/protocol';
import { createHmac } from 'node:crypto';
import type { TrainingData } from './context.js';
import type { TrainingExecution } from './plan-decision.js';

/**
 * Runs `execution` (plan-decision.ts: the numbers the site decided on, the same object its charge is computed
 * from) on the site's data and encodes the result as the uint32 vector SecAgg+ masks (layout: libs/protocol
 * events/update-layout.ts). Only the plan's model (spec, weights) is read from the plan. Only this vector (masked)
 * leaves the site; the training stats (loss, batch size, clipped fraction) stay local.
 *
 * - local: DP-SGD for `steps` steps (Poisson rate q, clip C, noise sigma*C per step, native trainLocal), then the
 *   delta is fixed-point encoded.
 * - none: plain SGD on shuffled batches, same encoding.
 * - distributed: ONE Poisson sample, per-example clipped gradients summed with NO noise (trainLocal with
 *   noiseMultiplier 0, one step and `clippedSum`: the kernel returns the sum itself, clip factors and accumulation
 *   in double, on the CPU); the record vector's last coordinate is countWeight per sampled record; then libs/secagg `encodeSiteSum`: clamped, scaled by 2^s, plain randomized
 *   rounding and the site's discrete Gaussian share N_Z(0, localNoiseVariance), mod 2^32 (why that keeps one
 *   record's effect within C 2^s + sqrt(d): libs/secagg site-sum.ts).
 */
export async function trainAndEncode(
  plan: Pick<TrainingPlan, 'model'>,
  execution: TrainingExecution,
  weights: Float32Array,
  data: TrainingData,
  threads = 1,
  device: 'cpu' | 'cuda' | 'auto' = 'cpu',
  /** simulations only (context.ts reproducibleSeed): this round's seed; absent, the native CSPRNG seeds itself */
  seed?: Uint8Array,
): Promise<{ encoded: Uint32Array; stats: { loss: number; meanBatchSize: number; fractionClipped: number } }> {
  const spec = plan.model.spec as ModelSpec;
  // the class weight scales a positive example's gradient before clipping (1 is passed as absent)
  const classWeight = execution.classWeight === 1 ? undefined : execution.classWeight;
  const common = {
    spec,
    weights,
    features: data.features,
    labels: data.labels,
    threads,
    device: classWeight === undefined ? device : ('cpu' as const), // the kernel weights on the CPU only
    classWeight,
    seed: seed && derivedSeed(seed, 'train'),
  };
  const x = execution;
  if (x.mode === 'distributed') {
    // the clipped sum straight from the kernel, in double (native train.h `clipped_sum`); CPU only
    const { clippedSum, stats } = await trainLocal({
      ...common,
      device: 'cpu',
      steps: 1,
      learningRate: 1,
      momentum: 0,
      privacy: { mode: 'dp', sampleRate: x.sampleRate, noiseMultiplier: 0, clipNorm: x.gradientClip },
      clippedSum: true,
    });
    const p = clippedSum!.length;
    const vector = new Float64Array(p + 1);
    vector.set(clippedSum!);
    vector[p] = x.countWeight * stats.meanBatchSize;
    const encoded = await encodeSiteSum(vector, {
      clip: x.clamp,
      scaleBits: x.scaleBits,
      localNoiseVariance: x.localNoiseVariance,
      seed: seed && derivedSeed(seed, 'encode'),
    });
    return { encoded, stats };
  }
  const { delta, stats } = await trainLocal({
    ...common,
    steps: x.steps,
    learningRate: x.learningRate,
    momentum: x.momentum,
    proximalMu: x.proximalMu > 0 ? x.proximalMu : undefined,
    privacy:
      x.mode === 'local'
        ? { mode: 'dp', sampleRate: x.sampleRate, noiseMultiplier: x.noiseMultiplier, clipNorm: x.clipNorm }
        : { mode: 'none', batchSize: Math.min(x.batchSize, data.count) },
  });
  const encoded = await quantize(delta, {
    clip: x.encoding.clip,
    scaleBits: x.encoding.scaleBits,
    seed: seed && derivedSeed(seed, 'encode'),
  });
  return { encoded, stats };
}

/** A seed for one purpose of a round, from the round's simulation seed (HMAC-SHA256, RFC 2104). */
export function derivedSeed(seed: Uint8Array, purpose: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', seed).update(purpose).digest());
}
