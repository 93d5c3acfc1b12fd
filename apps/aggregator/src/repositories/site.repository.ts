import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { sites, type Site } from '../db/schema/sites.js';
import { countOf, paged, type Page, type Paged } from './paging.js';

/** Sites as operators see them: the paginated list and revocation. */
export class SiteRepository {
  constructor(private readonly db: Db) {}

  listSites(federationId: string, filter: { status?: Site['status'] }, page: Page): Promise<Paged<Site>> {
    const where = and(
      eq(sites.federationId, federationId),
      filter.status ? eq(sites.status, filter.status) : undefined,
    );
    return paged(
      this.db
        .select()
        .from(sites)
        .where(where)
        .orderBy(asc(sites.createdAt), asc(sites.name))
        .limit(page.limit)
        .offset(page.offset),
      countOf(this.db, sites, where),
      page,
    );
  }
  async setSiteStatus(federationId: string, siteId: string, status: Site['status']): Promise<boolean> {
    const rows = await this.db
      .update(sites)
      .set({ status })
      .where(and(eq(sites.id, siteId), eq(sites.federationId, federationId)))
      .returning({ id: sites.id });
    return rows.length === 1;
  }
}
