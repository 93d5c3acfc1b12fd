import {
  decodeEvaluationSum,
  evaluationCoordinateStd,
  metricsOfEvaluation,
  type EvaluationMetrics,
  type TrainingPlan,
} from '@concord/protocol';
import type { Db } from '../../db/client.js';
import type { AgentConnectionsRepository } from '../../repositories/agent-connections.repository.js';
import type { MetricRepository } from '../../repositories/metric.repository.js';
import type { ModelVersionRepository } from '../../repositories/model-version.repository.js';
import type { RoundRepository } from '../../repositories/round.repository.js';
import type { RoundContext } from './round-context.js';

/**
 * Stage "evaluate" (an evaluation round's last stage, in place of "release"; runs only after the charge committed):
 * decodes the unmasked sum of the survivors' count vectors, turns it into metrics with the standard deviation of
 * each metric's noise (libs/protocol events/evaluation.ts), and stores them on the evaluated model version and as
 * the round's metrics, with the round `released`, in one transaction; then tells the cohort.
 */
export async function recordEvaluation(
  deps: {
    db: Pick<Db, 'transaction'>;
    rounds: Pick<RoundRepository, 'setState' | 'setParticipant'>;
    models: Pick<ModelVersionRepository, 'addMetrics'>;
    metrics: Pick<MetricRepository, 'recordMetrics'>;
    connections: Pick<AgentConnectionsRepository, 'broadcast'>;
  },
  ctx: RoundContext,
  input: { plan: TrainingPlan; sum: Uint32Array; survivors: readonly string[] },
): Promise<EvaluationMetrics & { modelVersion: number }> {
  const { federationId, round, roster } = ctx;
  const e = input.plan.evaluation;
  if (!e) throw new RangeError('plan: not an evaluation plan');
  const vector = decodeEvaluationSum(input.sum.subarray(0, e.vectorLength), e.scaleBits);
  const coordinateStd = evaluationCoordinateStd(e, input.survivors.length);
  const result = metricsOfEvaluation(vector, e, coordinateStd);
  const values = flatMetrics(result, input.survivors.length);
  await deps.db.transaction(async (tx) => {
    await deps.models.addMetrics(federationId, e.modelVersion, values, tx);
    await deps.rounds.setParticipant(round.id, input.survivors, { stage: 'completed' }, tx);
    ctx.lap('evaluate');
    await deps.rounds.setState(round.id, 'released', { stageTimings: ctx.timings }, tx);
    await deps.metrics.recordMetrics(
      federationId,
      round.id,
      { ...values, modelVersion: e.modelVersion, survivors: input.survivors.length, cohort: roster.length },
      { kind: 'evaluation' },
      tx,
    );
  });
  deps.connections.broadcast(
    roster.map((m) => m.siteId),
    'round:result',
    { roundId: round.id, roundNumber: round.number, modelVersion: e.modelVersion, kind: 'evaluation' },
  );
  return { ...result, modelVersion: e.modelVersion };
}

/** The metrics as stored on a model version: each value beside its noise std (`<name>Std`). */
export function flatMetrics(m: EvaluationMetrics, sites: number): Record<string, number> {
  const out: Record<string, number> = {
    loss: m.loss,
    lossStd: m.std.loss,
    evaluatedRecords: m.records,
    evaluatedRecordsStd: m.std.records,
    evaluatedSites: sites,
  };
  if (m.accuracy !== undefined) Object.assign(out, { accuracy: m.accuracy, accuracyStd: m.std.accuracy! });
  if (m.rocAuc !== undefined) Object.assign(out, { rocAuc: m.rocAuc, rocAucStd: m.std.rocAuc! });
  return out;
}
