import { desc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { federations, type Federation } from '../db/schema/federations.js';
import { countOf, paged, type Page, type Paged } from './paging.js';

/** The dashboard's federation list (the round engine's reads and writes are in FederationRepository). */
export class FederationQueryRepository {
  constructor(private readonly db: Db) {}

  listFederations(filter: { status?: Federation['status'] }, page: Page): Promise<Paged<Federation>> {
    const where = filter.status ? eq(federations.status, filter.status) : undefined;
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
