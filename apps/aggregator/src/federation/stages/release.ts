import type { ServerOptimizerState } from '@concord/fedopt';
import { decodeUpdateSum, float32ToBytes, type TrainingPlan } from '@concord/protocol';
import { embedWatermark } from '@concord/watermark';
import type { Db } from '../../db/client.js';
import type { AgentConnectionsRepository } from '../../repositories/agent-connections.repository.js';
import type { KeyRepository } from '../../repositories/key.repository.js';
import type { MetricRepository } from '../../repositories/metric.repository.js';
import type { ModelVersionRepository } from '../../repositories/model-version.repository.js';
import type { RoundRepository } from '../../repositories/round.repository.js';
import { applyServerUpdate } from '../server-optimizer.js';
import { sha256Hex, type RoundContext, type RunHooks } from './round-context.js';

export interface Released {
  weights: Float32Array;
  optimizer: ServerOptimizerState;
  modelVersion: number;
  updateNorm: number;
  accuracy?: number;
  loss?: number;
}

/**
 * Stage "release": decodes the unmasked sum, applies the server optimizer, re-embeds the owner watermark, evaluates
 * (simulate/demo), stores the new model version with the round's `released` state and metrics in one transaction,
 * then tells the cohort. Runs only after the charge committed.
 */
export async function releaseModel(
  deps: {
    db: Pick<Db, 'transaction'>;
    rounds: Pick<RoundRepository, 'setState' | 'setParticipant'>;
    models: Pick<ModelVersionRepository, 'insertModel'>;
    metrics: Pick<MetricRepository, 'recordMetrics'>;
    keys: Pick<KeyRepository, 'watermarkKey'>;
    connections: Pick<AgentConnectionsRepository, 'broadcast'>;
  },
  ctx: RoundContext,
  input: {
    plan: TrainingPlan;
    sum: Uint32Array;
    survivors: readonly string[];
    weights: Float32Array;
    version: number;
    optimizer: ServerOptimizerState;
    evaluate?: RunHooks['evaluate'];
  },
): Promise<Released> {
  const { federationId, settings, round, roster } = ctx;
  const { survivors } = input;
  const decoded = decodeUpdateSum(input.sum, input.plan, survivors.length);
  const updateNorm = l2Norm(decoded.mode === 'distributed' ? decoded.gradientSum : decoded.meanDelta);
  const updated = applyServerUpdate(input.weights, decoded, settings.server, input.optimizer);
  await deps.rounds.setState(round.id, 'aggregated');
  ctx.lap('optimizer');
  let watermarkId: string | null = null;
  if (settings.watermark) {
    // Re-embed every round: training drifts the carrier (libs/watermark embedWatermark, data-free).
    const key = deps.keys.watermarkKey(federationId, settings.model.inputSize);
    updated.weights = embedWatermark(settings.model, updated.weights, [key]).weights;
    watermarkId = `owner:${federationId}`;
  }
  ctx.lap('watermark');
  const evaluation = input.evaluate ? await input.evaluate(updated.weights) : undefined;
  if (input.evaluate) ctx.lap('evaluate');
  const heldOut = evaluation ? heldOutMetrics(evaluation) : {};
  const bytes = float32ToBytes(updated.weights);
  const modelVersion = input.version + 1;
  await deps.db.transaction(async (tx) => {
    await deps.models.insertModel(
      {
        federationId,
        roundId: round.id,
        version: modelVersion,
        sha256: sha256Hex(bytes),
        sizeBytes: bytes.byteLength,
        weights: bytes,
        metrics: heldOut,
        optimizerState: updated.saved,
        watermarkId,
      },
      tx,
    );
    await deps.rounds.setParticipant(round.id, survivors, { stage: 'completed' }, tx);
    ctx.lap('model-write');
    await deps.rounds.setState(round.id, 'released', { stageTimings: ctx.timings }, tx);
    await deps.metrics.recordMetrics(
      federationId,
      round.id,
      {
        survivors: survivors.length,
        cohort: roster.length,
        ...heldOut,
      },
      {},
      tx,
    );
  });
  deps.connections.broadcast(
    roster.map((m) => m.siteId),
    'round:result',
    { roundId: round.id, roundNumber: round.number, modelVersion },
  );
  ctx.lap('broadcast');
  return {
    weights: updated.weights,
    optimizer: updated.state,
    modelVersion,
    updateNorm,
    accuracy: evaluation?.accuracy,
    loss: evaluation?.loss,
  };
}

/**
 * The release-time evaluation (simulate and demo: the server's own held-out set, exact) under `heldOut*` names, so
 * that it never mixes with the private evaluation's noisy `accuracy`, `loss`, `rocAuc` (and their `*Std`), which an
 * evaluation round later merges into the same version's metrics.
 */
export function heldOutMetrics(e: NonNullable<Awaited<ReturnType<NonNullable<RunHooks['evaluate']>>>>) {
  const out: Record<string, number> = { heldOutAccuracy: e.accuracy, heldOutLoss: e.loss };
  if (e.rocAuc !== undefined)
    Object.assign(out, { heldOutRocAuc: e.rocAuc, heldOutPrAuc: e.prAuc, heldOutLogLoss: e.logLoss });
  return out;
}

function l2Norm(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v * v;
  return Math.sqrt(sum);
}
