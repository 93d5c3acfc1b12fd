import { and, asc, eq } from 'drizzle-orm';
import type { Db, Executor } from '../db/client.js';
import { metrics, type Metric } from '../db/schema/metrics.js';
import { countOf, paged, type Page, type Paged } from './paging.js';

/** The `metrics` table: the per-round metric series, written in the release transaction, listed to operators. */
export class MetricRepository {
  constructor(private readonly db: Db) {}

  async recordMetrics(
    federationId: string,
    roundId: string | null,
    values: Record<string, number>,
    labels: Record<string, string> = {},
    executor: Executor = this.db,
  ): Promise<void> {
    const rows = Object.entries(values)
      .filter(([, v]) => Number.isFinite(v))
      .map(([name, value]) => ({ federationId, roundId, name, value, labels }));
    if (rows.length > 0) await executor.insert(metrics).values(rows);
  }

  listMetrics(federationId: string, filter: { name?: string }, page: Page): Promise<Paged<Metric>> {
    const where = and(eq(metrics.federationId, federationId), filter.name ? eq(metrics.name, filter.name) : undefined);
    return paged(
      this.db.select().from(metrics).where(where).orderBy(asc(metrics.id)).limit(page.limit).offset(page.offset),
      countOf(this.db, metrics, where),
      page,
    );
  }
}
