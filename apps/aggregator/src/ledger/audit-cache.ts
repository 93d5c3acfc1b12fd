import { createHash } from 'node:crypto';
import type { LedgerRepository } from '../repositories/ledger.repository.js';
import type { SiteRepository } from '../repositories/site.repository.js';
import { auditLedger, type AuditReport } from './audit.js';

/**
 * One audit per ledger head: the budgets view, the sites list and the ledger status all read the same recomputation,
 * redone only when the federation's ledger head (seq, hash) or its sites' public keys change. The ledger is
 * append-only (the database refuses UPDATE and DELETE), so an unchanged head means unchanged entries.
 */
export class LedgerAuditCache {
  private readonly byFederation = new Map<string, { key: string; report: Promise<AuditReport> }>();

  constructor(
    private readonly ledger: Pick<LedgerRepository, 'head' | 'entries'>,
    private readonly sites: Pick<SiteRepository, 'identityKeys'>,
    private readonly maxFederations = 256,
  ) {}

  async audit(federationId: string): Promise<AuditReport> {
    const [head, publicKeys] = await Promise.all([
      this.ledger.head(federationId),
      this.sites.identityKeys(federationId),
    ]);
    const key = cacheKey(head, publicKeys);
    const cached = this.byFederation.get(federationId);
    if (cached?.key === key) return cached.report;
    const report = this.ledger.entries(federationId).then((entries) => auditLedger({ entries, publicKeys }));
    this.byFederation.delete(federationId);
    if (this.byFederation.size >= this.maxFederations) {
      this.byFederation.delete(this.byFederation.keys().next().value!);
    }
    this.byFederation.set(federationId, { key, report });
    report.catch(() => {
      // a failed audit is not cached: the caller gets the error, the next request recomputes
      if (this.byFederation.get(federationId)?.report === report) this.byFederation.delete(federationId);
    });
    return report;
  }
}

function cacheKey(head: { seq: number; hash: string }, publicKeys: Map<string, string>): string {
  const keys = createHash('sha256');
  for (const [site, key] of [...publicKeys].sort(([a], [b]) => a.localeCompare(b))) keys.update(`${site}=${key};`);
  return `${head.seq}:${head.hash}:${keys.digest('hex')}`;
}
