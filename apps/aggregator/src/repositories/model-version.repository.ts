import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db, Executor } from '../db/client.js';
import { modelVersions, type ModelVersion } from '../db/schema/model-versions.js';
import { countOf, paged, type Page, type Paged } from './paging.js';

export type ModelVersionSummary = Omit<ModelVersion, 'weights' | 'optimizerState'>;

/**
 * The `model_versions` table: the engine's newest model and each released version (written in the release
 * transaction); operators' list (without weights) and one version with its weights.
 */
export class ModelVersionRepository {
  constructor(private readonly db: Db) {}

  /** The newest model version (weights included), if any. */
  async latestModel(federationId: string): Promise<ModelVersion | undefined> {
    const [row] = await this.db
      .select()
      .from(modelVersions)
      .where(eq(modelVersions.federationId, federationId))
      .orderBy(desc(modelVersions.version))
      .limit(1);
    return row;
  }

  async insertModel(
    row: Omit<typeof modelVersions.$inferInsert, 'id' | 'createdAt'>,
    executor: Executor = this.db,
  ): Promise<void> {
    await executor.insert(modelVersions).values(row);
  }

  /** Merges `metrics` into one version's metrics (a private evaluation's noisy results, written after its charge). */
  async addMetrics(
    federationId: string,
    version: number,
    values: Record<string, number>,
    executor: Executor = this.db,
  ): Promise<void> {
    await executor
      .update(modelVersions)
      .set({ metrics: sql`${modelVersions.metrics} || ${JSON.stringify(values)}::jsonb` })
      .where(and(eq(modelVersions.federationId, federationId), eq(modelVersions.version, version)));
  }

  listModels(federationId: string, page: Page): Promise<Paged<ModelVersionSummary>> {
    const where = eq(modelVersions.federationId, federationId);
    return paged(
      this.db
        .select({
          id: modelVersions.id,
          federationId: modelVersions.federationId,
          roundId: modelVersions.roundId,
          version: modelVersions.version,
          sha256: modelVersions.sha256,
          sizeBytes: modelVersions.sizeBytes,
          watermarkId: modelVersions.watermarkId,
          metrics: modelVersions.metrics,
          createdAt: modelVersions.createdAt,
        })
        .from(modelVersions)
        .where(where)
        .orderBy(desc(modelVersions.version))
        .limit(page.limit)
        .offset(page.offset),
      countOf(this.db, modelVersions, where),
      page,
    );
  }
  async model(federationId: string, version: number): Promise<ModelVersion | undefined> {
    const [row] = await this.db
      .select()
      .from(modelVersions)
      .where(and(eq(modelVersions.federationId, federationId), eq(modelVersions.version, version)));
    return row;
  }
}
