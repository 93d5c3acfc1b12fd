import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { federations, type Federation } from '../db/schema/federations.js';
import { countOf, paged, type Page, type Paged } from './paging.js';

/** The dashboard's federation list (the round engine's reads and writes are in FederationRepository). */
export class FederationQueryRepository {
  constructor(private readonly db: Db) {}

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
}
