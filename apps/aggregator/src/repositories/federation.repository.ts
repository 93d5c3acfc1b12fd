import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { enrollmentTokens } from '../db/schema/enrollment-tokens.js';
import { federations, type Federation, type FederationStatusReason } from '../db/schema/federations.js';
import { sites, type Site } from '../db/schema/sites.js';

/** Federations, enrolled sites and one-time enrollment tokens (hashes only). */
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

  async get(id: string): Promise<Federation | undefined> {
    const [row] = await this.db.select().from(federations).where(eq(federations.id, id));
    return row;
  }

  listActive(): Promise<Federation[]> {
    return this.db.select().from(federations).where(eq(federations.status, 'active'));
  }

  async setStatus(id: string, status: Federation['status']): Promise<void> {
    await this.db.update(federations).set({ status, updatedAt: new Date() }).where(eq(federations.id, id));
  }

  /** Sets (or clears, with null) why the federation is not progressing; leaves its status alone. */
  async setStatusReason(id: string, reason: FederationStatusReason | null): Promise<void> {
    await this.db.update(federations).set({ statusReason: reason }).where(eq(federations.id, id));
  }

  async addToken(federationId: string, tokenHash: string, expiresAt: Date): Promise<void> {
    await this.db.insert(enrollmentTokens).values({ federationId, tokenHash, expiresAt });
  }

  /**
   * Spends the token with this hash and enrolls the site, in one transaction (the token row is locked, so two
   * concurrent uses cannot both succeed). Returns a reason instead of a site when the token cannot be used.
   */
  async enrollWithToken(
    tokenHash: string,
    now: Date,
    site: {
      identityPublicKey: string;
      keyAgreementPublicKey: string;
      capEpsilon: number;
      capDelta: number;
      name?: string;
    },
    /** a refusal (why) of this site by its federation, checked before anything is written; undefined: accepted */
    refuse: (federation: Federation) => string | undefined = () => undefined,
  ): Promise<
    | { site: Site }
    | { refused: 'unknown' | 'expired' | 'used' | 'duplicate-key' | 'duplicate-agreement-key' | 'duplicate-name' }
    | { refused: 'federation'; reason: string }
  > {
    return this.db.transaction(async (tx) => {
      const [token] = await tx
        .select()
        .from(enrollmentTokens)
        .where(eq(enrollmentTokens.tokenHash, tokenHash))
        .for('update');
      if (!token) return { refused: 'unknown' as const };
      if (token.usedAt) return { refused: 'used' as const };
      if (token.expiresAt.getTime() <= now.getTime()) return { refused: 'expired' as const };
      const [federation] = await tx.select().from(federations).where(eq(federations.id, token.federationId));
      const reason = federation ? refuse(federation) : undefined;
      if (reason !== undefined) return { refused: 'federation' as const, reason };
      // keys arrive in their one canonical encoding (checked by the caller): equal strings are equal bytes
      const [existing] = await tx
        .select({ id: sites.id })
        .from(sites)
        .where(eq(sites.identityPublicKey, site.identityPublicKey));
      if (existing) return { refused: 'duplicate-key' as const };
      const [sameAgreementKey] = await tx
        .select({ id: sites.id })
        .from(sites)
        .where(eq(sites.keyAgreementPublicKey, site.keyAgreementPublicKey));
      if (sameAgreementKey) return { refused: 'duplicate-agreement-key' as const };
      if (site.name !== undefined) {
        const [sameName] = await tx
          .select({ id: sites.id })
          .from(sites)
          .where(and(eq(sites.federationId, token.federationId), eq(sites.name, site.name)));
        if (sameName) return { refused: 'duplicate-name' as const };
      }
      const [created] = await tx
        .insert(sites)
        .values({
          federationId: token.federationId,
          name: site.name ?? `site-${token.id.slice(0, 8)}`,
          identityPublicKey: site.identityPublicKey,
          keyAgreementPublicKey: site.keyAgreementPublicKey,
          capEpsilon: site.capEpsilon,
          capDelta: site.capDelta,
        })
        .returning();
      const spent = await tx
        .update(enrollmentTokens)
        .set({ usedAt: now, usedBySiteId: created.id })
        .where(and(eq(enrollmentTokens.id, token.id), isNull(enrollmentTokens.usedAt)))
        .returning({ id: enrollmentTokens.id });
      if (spent.length !== 1) throw new Error('enrollment token was spent concurrently');
      return { site: created };
    });
  }

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

  async touchSite(siteId: string, now: Date): Promise<void> {
    await this.db.update(sites).set({ lastSeenAt: now }).where(eq(sites.id, siteId));
  }
}
