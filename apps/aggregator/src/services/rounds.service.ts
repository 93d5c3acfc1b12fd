import type { MetricListQuery, RoundListQuery } from '../dtos/operator.dto.js';
import type { MetricRepository } from '../repositories/metric.repository.js';
import type { RoundRepository } from '../repositories/round.repository.js';
import type { FederationsService } from './federations.service.js';
import { page } from './operator-common.js';
import { OperatorError } from './operator-error.js';

/** Rounds (stage timings, participants, dropouts) and the per-round metric series. */
export class RoundsService {
  constructor(
    private readonly federations: Pick<FederationsService, 'get'>,
    private readonly rounds: Pick<RoundRepository, 'listRounds' | 'round' | 'participantCounts'>,
    private readonly metrics: Pick<MetricRepository, 'listMetrics'>,
  ) {}

  async list(federationId: string, q: RoundListQuery) {
    const federation = await this.federations.get(federationId);
    const paged = await this.rounds.listRounds(federation.id, { state: q.state, kind: q.kind }, page(q));
    const counts = await this.rounds.participantCounts(paged.items.map((r) => r.id));
    return {
      ...paged,
      items: paged.items.map((r) => ({
        id: r.id,
        number: r.number,
        kind: r.kind,
        state: r.state,
        stageTimings: r.stageTimings,
        failureReason: r.failureReason,
        createdAt: r.createdAt,
        updatedAt: r.updatedAt,
        cohort: counts.get(r.id)?.cohort ?? 0,
        dropouts: counts.get(r.id)?.dropped ?? 0,
      })),
    };
  }

  async get(federationId: string, roundId: string) {
    const federation = await this.federations.get(federationId);
    const found = await this.rounds.round(federation.id, roundId);
    if (!found) throw new OperatorError('E_NOT_FOUND', `no round ${roundId} in this federation`);
    return {
      ...found.round,
      participants: found.participants.map((p) => ({
        siteId: p.siteId,
        stage: p.stage,
        dropped: p.dropped,
        dropReason: p.dropReason,
        droppedAt: p.droppedAt,
      })),
      dropouts: found.participants.filter((p) => p.dropped).length,
    };
  }

  async metricSeries(federationId: string, q: MetricListQuery) {
    const federation = await this.federations.get(federationId);
    const paged = await this.metrics.listMetrics(federation.id, { name: q.name }, page(q));
    return {
      ...paged,
      items: paged.items.map((m) => ({
        name: m.name,
        value: m.value,
        roundId: m.roundId,
        labels: m.labels,
        recordedAt: m.recordedAt,
      })),
    };
  }
}
