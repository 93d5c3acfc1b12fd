import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { metrics, type Metric } from '../db/schema/metrics.js';
import { countOf, paged, type Page, type Paged } from './paging.js';

/** The per-round metric series as operators see them. */
export class MetricRepository {
  constructor(private readonly db: Db) {}

  listMetrics(federationId: string, filter: { name?: string }, page: Page): Promise<Paged<Metric>> {
    const where = and(eq(metrics.federationId, federationId), filter.name ? eq(metrics.name, filter.name) : undefined);
    return paged(
      this.db.select().from(metrics).where(where).orderBy(asc(metrics.id)).limit(page.limit).offset(page.offset),
      countOf(this.db, metrics, where),
      page,
    );
  }
}
