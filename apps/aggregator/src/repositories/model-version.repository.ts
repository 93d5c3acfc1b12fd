import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { modelVersions, type ModelVersion } from '../db/schema/model-versions.js';
import { countOf, paged, type Page, type Paged } from './paging.js';

export type ModelVersionSummary = Omit<ModelVersion, 'weights' | 'optimizerState'>;

/** Released model versions as operators see them: the list (without weights) and one version with its weights. */
export class ModelVersionRepository {
  constructor(private readonly db: Db) {}

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
