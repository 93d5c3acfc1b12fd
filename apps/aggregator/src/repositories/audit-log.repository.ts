import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { auditLog, type AuditLogEntry } from '../db/schema/audit-log.js';
import { countOf, paged, type Page, type Paged } from './paging.js';

/** The audit log of operator actions: one row per action, written by the service that performed it. */
export class AuditLogRepository {
  constructor(private readonly db: Db) {}

  async record(entry: {
    federationId?: string | null;
    apiKeyId?: string | null;
    actorRole: string;
    action: string;
    target?: string | null;
    details?: Record<string, unknown>;
  }): Promise<void> {
    await this.db.insert(auditLog).values({ ...entry, details: entry.details ?? {} });
  }
  list(filter: { federationId?: string; action?: string }, page: Page): Promise<Paged<AuditLogEntry>> {
    const where = and(
      filter.federationId ? eq(auditLog.federationId, filter.federationId) : undefined,
      filter.action ? eq(auditLog.action, filter.action) : undefined,
    );
    return paged(
      this.db.select().from(auditLog).where(where).orderBy(desc(auditLog.id)).limit(page.limit).offset(page.offset),
      countOf(this.db, auditLog, where),
      page,
    );
  }
}
