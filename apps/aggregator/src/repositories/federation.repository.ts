import { and, desc, eq, inArray } from 'drizzle-orm';
import type { Db, Executor } from '../db/client.js';
import { federations, type Federation, type FederationStatusReason } from '../db/schema/federations.js';
import { coalesced } from './coalesce.js';
import { countOf, paged, type Page, type Paged } from './paging.js';

/**
 * The `federations` table: a federation's stored settings, its status and why it is not progressing; the dashboard's
 * paginated list. (Its sites are in SiteRepository, its tokens in EnrollmentTokenRepository.)
 */
export class FederationRepository {
  constructor(private readonly db: Db) {}

  async create(input: {
    name: string;
    spec: Record<string, unknown>;
    status?: Federation['status'];
  }): Promise<Federation> {
    const [row] = await this.db
      .insert(federations)
      .values({ name: input.name, spec: input.spec, status: input.status ?? 'active' })
      .returning();
    return row;
  }

  async get(id: string, executor: Executor = this.db): Promise<Federation | undefined> {
    const [row] = await executor.select().from(federations).where(eq(federations.id, id));
    return row;
  }

  /**
   * A federation's status and why (what an agent's authentication checks), without its settings; the lookups of
   * one event-loop turn are one query (a burst of sites authenticating at once).
   */
  readonly statusOf = coalesced<string, Pick<Federation, 'status' | 'statusReason'>>(async (ids) => {
    const rows = await this.db
      .select({ id: federations.id, status: federations.status, statusReason: federations.statusReason })
      .from(federations)
      .where(inArray(federations.id, ids));
    return new Map(rows.map(({ id, ...status }) => [id, status]));
  });

  listActive(): Promise<Federation[]> {
    return this.db.select().from(federations).where(eq(federations.status, 'active'));
  }

  listFederations(filter: { status?: Federation['status']; id?: string }, page: Page): Promise<Paged<Federation>> {
    const where = and(
      filter.status ? eq(federations.status, filter.status) : undefined,
      filter.id ? eq(federations.id, filter.id) : undefined,
    );
    return paged(
      this.db
        .select()
        .from(federations)
        .where(where)
        .orderBy(desc(federations.createdAt))
        .limit(page.limit)
        .offset(page.offset),
      countOf(this.db, federations, where),
      page,
    );
  }

  async setStatus(id: string, status: Federation['status']): Promise<void> {
    await this.db.update(federations).set({ status, updatedAt: new Date() }).where(eq(federations.id, id));
  }

  /** Sets (or clears, with null) why the federation is not progressing; leaves its status alone. */
  async setStatusReason(id: string, reason: FederationStatusReason | null): Promise<void> {
    await this.db.update(federations).set({ statusReason: reason }).where(eq(federations.id, id));
  }
}
