import { and, desc, eq, gt, inArray, isNotNull, isNull, lte, sql, type SQL } from 'drizzle-orm';
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

  /**
   * The tokens with these hashes, by hash, their rows locked until `tx` ends (so two concurrent uses cannot both
   * spend one). One statement for a whole batch of enrollments.
   */
  async lockByHashes(tx: Executor, tokenHashes: readonly string[]): Promise<Map<string, EnrollmentToken>> {
    if (tokenHashes.length === 0) return new Map();
    const rows = await tx
      .select()
      .from(enrollmentTokens)
      .where(inArray(enrollmentTokens.tokenHash, [...new Set(tokenHashes)]))
      .for('update');
    return new Map(rows.map((row) => [row.tokenHash, row]));
  }

  /**
   * Marks unused tokens used, each by its site, in one statement; the number of tokens it marked (fewer than asked:
   * one was spent already).
   */
  async markUsed(tx: Executor, spent: readonly { tokenId: string; siteId: string }[], now: Date): Promise<number> {
    if (spent.length === 0) return 0;
    const bySite = sql.join(
      spent.map((s) => sql`when ${s.tokenId}::uuid then ${s.siteId}::uuid`),
      sql` `,
    );
    const marked = await tx
      .update(enrollmentTokens)
      .set({ usedAt: now, usedBySiteId: sql`case ${enrollmentTokens.id} ${bySite} end` })
      .where(
        and(
          inArray(
            enrollmentTokens.id,
            spent.map((s) => s.tokenId),
          ),
          isNull(enrollmentTokens.usedAt),
        ),
      )
      .returning({ id: enrollmentTokens.id });
    return marked.length;
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
