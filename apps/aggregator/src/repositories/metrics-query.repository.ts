import { desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { federations, type Federation } from '../db/schema/federations.js';
import { modelVersions } from '../db/schema/model-versions.js';
import { roundParticipants } from '../db/schema/round-participants.js';
import { rounds } from '../db/schema/rounds.js';

/** Aggregates for /metrics, straight from the tables (one query each). */
export class MetricsQueryRepository {
  constructor(private readonly db: Db) {}

  federationIds(): Promise<Array<{ id: string; status: Federation['status'] }>> {
    return this.db.select({ id: federations.id, status: federations.status }).from(federations);
  }

  roundsByState() {
    return this.db
      .select({ federationId: rounds.federationId, state: rounds.state, n: sql<number>`count(*)::int` })
      .from(rounds)
      .groupBy(rounds.federationId, rounds.state);
  }

  finishedRounds() {
    return this.db
      .select({
        state: rounds.state,
        stageTimings: rounds.stageTimings,
        createdAt: rounds.createdAt,
        updatedAt: rounds.updatedAt,
      })
      .from(rounds)
      .where(inArray(rounds.state, ['released', 'failed']));
  }

  dropoutsByFederation() {
    return this.db
      .select({ federationId: roundParticipants.federationId, n: sql<number>`count(*)::int` })
      .from(roundParticipants)
      .where(eq(roundParticipants.dropped, true))
      .groupBy(roundParticipants.federationId);
  }

  /**
   * Per federation, the newest model version that a private evaluation round has scored (its metrics carry
   * `lossStd`, which only the evaluation writes: the release-time held-out keys are `heldOut*`).
   */
  latestEvaluations(): Promise<Array<{ federationId: string; version: number; metrics: Record<string, unknown> }>> {
    return this.db
      .selectDistinctOn([modelVersions.federationId], {
        federationId: modelVersions.federationId,
        version: modelVersions.version,
        metrics: modelVersions.metrics,
      })
      .from(modelVersions)
      .where(sql`${modelVersions.metrics} ->> 'lossStd' is not null`)
      .orderBy(modelVersions.federationId, desc(modelVersions.version));
  }
}
