import { and, desc, eq, gt, isNotNull, isNull, lte, type SQL } from 'drizzle-orm';
import type { Db, Executor } from '../db/client.js';
import { enrollmentTokens, type EnrollmentToken } from '../db/schema/enrollment-tokens.js';
import { countOf, paged, type Page } from './paging.js';

export type TokenState = 'active' | 'used' | 'expired';

/**
 * The `enrollment_tokens` table: one-time tokens (their SHA-256 only), issued, spent by one enrollment, listed to
 * operators without their hash, revoked by expiring them.
 */
export class EnrollmentTokenRepository {
  constructor(private readonly db: Db) {}

  async addToken(federationId: string, tokenHash: string, expiresAt: Date): Promise<void> {
    await this.db.insert(enrollmentTokens).values({ federationId, tokenHash, expiresAt });
  }

  /** Many tokens in a few statements (a simulation issues one per site: 1,000 single inserts took seconds). */
  async addTokens(federationId: string, tokens: readonly { tokenHash: string; expiresAt: Date }[]): Promise<void> {
    for (let i = 0; i < tokens.length; i += 500) {
      const rows = tokens.slice(i, i + 500).map((t) => ({ federationId, ...t }));
      await this.db.insert(enrollmentTokens).values(rows);
    }
  }

  /** The token with this hash, its row locked until `tx` ends (so two concurrent uses cannot both spend it). */
  async lockByHash(tx: Executor, tokenHash: string): Promise<EnrollmentToken | undefined> {
    const [token] = await tx
      .select()
      .from(enrollmentTokens)
      .where(eq(enrollmentTokens.tokenHash, tokenHash))
      .for('update');
    return token;
  }

  /** Marks an unused token used by `siteId`; false when it was spent already. */
  async markUsed(tx: Executor, tokenId: string, siteId: string, now: Date): Promise<boolean> {
    const spent = await tx
      .update(enrollmentTokens)
      .set({ usedAt: now, usedBySiteId: siteId })
      .where(and(eq(enrollmentTokens.id, tokenId), isNull(enrollmentTokens.usedAt)))
      .returning({ id: enrollmentTokens.id });
    return spent.length === 1;
  }

  listTokens(federationId: string, filter: { state?: TokenState }, now: Date, page: Page) {
    const conditions: SQL[] = [eq(enrollmentTokens.federationId, federationId)];
    if (filter.state === 'used') conditions.push(isNotNull(enrollmentTokens.usedAt));
    if (filter.state === 'active')
      conditions.push(isNull(enrollmentTokens.usedAt), gt(enrollmentTokens.expiresAt, now));
    if (filter.state === 'expired')
      conditions.push(isNull(enrollmentTokens.usedAt), lte(enrollmentTokens.expiresAt, now));
    const where = and(...conditions);
    return paged(
      this.db
        .select({
          id: enrollmentTokens.id,
          federationId: enrollmentTokens.federationId,
          expiresAt: enrollmentTokens.expiresAt,
          usedAt: enrollmentTokens.usedAt,
          usedBySiteId: enrollmentTokens.usedBySiteId,
          createdAt: enrollmentTokens.createdAt,
        })
        .from(enrollmentTokens)
        .where(where)
        .orderBy(desc(enrollmentTokens.createdAt))
        .limit(page.limit)
        .offset(page.offset),
      countOf(this.db, enrollmentTokens, where),
      page,
    );
  }
  async revokeToken(federationId: string, tokenId: string, now: Date): Promise<boolean> {
    const rows = await this.db
      .update(enrollmentTokens)
      .set({ expiresAt: now })
      .where(
        and(
          eq(enrollmentTokens.id, tokenId),
          eq(enrollmentTokens.federationId, federationId),
          isNull(enrollmentTokens.usedAt),
          gt(enrollmentTokens.expiresAt, now),
        ),
      )
      .returning({ id: enrollmentTokens.id });
    return rows.length === 1;
  }
}
