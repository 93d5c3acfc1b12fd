import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db, Executor } from '../db/client.js';
import { siteKeyFindings, type SiteKeyFindingRow } from '../db/schema/site-key-findings.js';
import { sites, type Site } from '../db/schema/sites.js';
import { coalesced } from './coalesce.js';
import { countOf, paged, type Page, type Paged } from './paging.js';

/** Keys and names enrolled sites already hold (SiteRepository.takenBy); names as siteNameKey(federationId, name). */
export interface TakenKeys {
  identityKeys: Set<string>;
  agreementKeys: Set<string>;
  names: Set<string>;
}

export const siteNameKey = (federationId: string, name: string) => `${federationId}/${name}`;

/** What a site enrolls with (keys in their one canonical encoding, checked by the caller). */
export interface NewSite {
  identityPublicKey: string;
  keyAgreementPublicKey: string;
  capEpsilon: number;
  capDelta: number;
  name?: string;
}

/** The `sites` table: enrolled sites, their keys and caps; the operators' paginated list and revocation. */
export class SiteRepository {
  constructor(private readonly db: Db) {}

  /**
   * getSite for agents authenticating (ids already checked as UUIDs): the lookups of one event-loop turn are one
   * query, so a burst of connecting sites costs one round trip, not one each.
   */
  readonly getSiteCoalesced = coalesced<string, Site>(async (ids) => {
    const rows = await this.db.select().from(sites).where(inArray(sites.id, ids));
    return new Map(rows.map((row) => [row.id, row]));
  });

  async getSite(siteId: string): Promise<Site | undefined> {
    const [row] = await this.db.select().from(sites).where(eq(sites.id, siteId));
    return row;
  }

  sitesOf(federationId: string, ids?: readonly string[]): Promise<Site[]> {
    const where = ids
      ? and(eq(sites.federationId, federationId), inArray(sites.id, [...ids]))
      : eq(sites.federationId, federationId);
    return this.db.select().from(sites).where(where);
  }

  /** What migration 0007 found wrong with the stored keys (site_key_findings), oldest first; one federation's or all. */
  recordedKeyFindings(federationId?: string): Promise<SiteKeyFindingRow[]> {
    const query = this.db.select().from(siteKeyFindings);
    return (federationId === undefined ? query : query.where(eq(siteKeyFindings.federationId, federationId))).orderBy(
      asc(siteKeyFindings.id),
    );
  }

  /** Every site's stored public keys (for the boot-time key report). */
  allSiteKeys(): Promise<
    { id: string; federationId: string; identityPublicKey: string; keyAgreementPublicKey: string }[]
  > {
    return this.db
      .select({
        id: sites.id,
        federationId: sites.federationId,
        identityPublicKey: sites.identityPublicKey,
        keyAgreementPublicKey: sites.keyAgreementPublicKey,
      })
      .from(sites);
  }

  /** Every site's identity public key in the federation (site id -> base64 raw Ed25519 key). */
  async identityKeys(federationId: string): Promise<Map<string, string>> {
    const rows = await this.db
      .select({ id: sites.id, publicKey: sites.identityPublicKey })
      .from(sites)
      .where(eq(sites.federationId, federationId));
    return new Map(rows.map((r) => [r.id, r.publicKey]));
  }

  /** The identity public keys of those of `siteIds` enrolled in `federationId` (read on the caller's transaction). */
  async identityKeysOf(
    executor: Executor,
    federationId: string,
    siteIds: readonly string[],
  ): Promise<Map<string, string>> {
    if (siteIds.length === 0) return new Map();
    const rows = await executor
      .select({ id: sites.id, publicKey: sites.identityPublicKey })
      .from(sites)
      .where(and(eq(sites.federationId, federationId), inArray(sites.id, [...new Set(siteIds)])));
    return new Map(rows.map((r) => [r.id, r.publicKey]));
  }

  /** Records that the site was seen at `now`; the touches of one event-loop turn are one statement. */
  async touchSite(siteId: string, now: Date): Promise<void> {
    await this.touches({ siteId, now });
  }

  private readonly touches = coalesced<{ siteId: string; now: Date }, true>(async (touches) => {
    const latest = new Date(Math.max(...touches.map((t) => t.now.getTime())));
    const ids = [...new Set(touches.map((t) => t.siteId))];
    await this.db.update(sites).set({ lastSeenAt: latest }).where(inArray(sites.id, ids));
    return new Map(touches.map((t) => [t, true]));
  });

  /**
   * Which of these keys and names enrolled sites already hold: identity and key-agreement keys of any federation,
   * names within their federation (as `federationId/name`). Keys arrive in their one canonical encoding (checked by
   * the caller): equal strings are equal bytes. Three statements for a whole batch of enrollments.
   */
  async takenBy(
    executor: Executor,
    candidates: readonly { federationId: string; site: NewSite }[],
  ): Promise<TakenKeys> {
    const taken: TakenKeys = { identityKeys: new Set(), agreementKeys: new Set(), names: new Set() };
    if (candidates.length === 0) return taken;
    const identity = await executor
      .select({ key: sites.identityPublicKey })
      .from(sites)
      .where(inArray(sites.identityPublicKey, [...new Set(candidates.map((c) => c.site.identityPublicKey))]));
    identity.forEach((r) => taken.identityKeys.add(r.key));
    const agreement = await executor
      .select({ key: sites.keyAgreementPublicKey })
      .from(sites)
      .where(inArray(sites.keyAgreementPublicKey, [...new Set(candidates.map((c) => c.site.keyAgreementPublicKey))]));
    agreement.forEach((r) => taken.agreementKeys.add(r.key));
    const named = candidates.filter((c) => c.site.name !== undefined);
    for (const federationId of new Set(named.map((c) => c.federationId))) {
      const names = named.filter((c) => c.federationId === federationId).map((c) => c.site.name!);
      const rows = await executor
        .select({ name: sites.name })
        .from(sites)
        .where(and(eq(sites.federationId, federationId), inArray(sites.name, [...new Set(names)])));
      rows.forEach((r) => taken.names.add(siteNameKey(federationId, r.name)));
    }
    return taken;
  }

  /** New sites, in one statement; the rows in the order given. */
  async insertMany(
    executor: Executor,
    rows: readonly { federationId: string; site: NewSite & { name: string } }[],
  ): Promise<Site[]> {
    if (rows.length === 0) return [];
    const created = await executor
      .insert(sites)
      .values(
        rows.map(({ federationId, site }) => ({
          federationId,
          name: site.name,
          identityPublicKey: site.identityPublicKey,
          keyAgreementPublicKey: site.keyAgreementPublicKey,
          capEpsilon: site.capEpsilon,
          capDelta: site.capDelta,
        })),
      )
      .returning();
    // RETURNING follows the VALUES order in practice, but nothing promises it: match the rows by their unique key
    const byKey = new Map(created.map((site) => [site.identityPublicKey, site]));
    return rows.map(({ site }) => byKey.get(site.identityPublicKey)!);
  }

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
