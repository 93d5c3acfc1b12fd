import type { LedgerRepository } from '../repositories/ledger.repository.js';
import type { SiteRepository } from '../repositories/site.repository.js';
import { FederationSettingsSchema } from '../federation/settings.js';
import type { ApiPrincipal } from './api-key.service.js';
import type { FederationsService } from './federations.service.js';
import type { LedgerAuditCache } from '../ledger/audit-cache.js';
import type { SiteAudit } from '../ledger/audit.js';

/** Budgets recomputed from the ledger (what an auditor recomputes), the ledger's status and its export. */
export class BudgetsService {
  constructor(
    private readonly federations: Pick<FederationsService, 'get'>,
    private readonly sites: Pick<SiteRepository, 'sitesOf'>,
    private readonly ledger: Pick<LedgerRepository, 'exportLedger'>,
    private readonly audits: Pick<LedgerAuditCache, 'audit'>,
  ) {}

  /** Per site: epsilon spent (recomputed from the ledger with libs/dp), cap and remaining. */
  async budgets(federationId: string, principal?: ApiPrincipal) {
    const federation = await this.federations.get(federationId);
    const [sites, budgets] = await Promise.all([this.sites.sitesOf(federation.id), this.siteAudits(federation.id)]);
    const visible = principal?.role === 'site' ? sites.filter((s) => s.id === principal.siteId) : sites;
    const settings = FederationSettingsSchema.safeParse(federation.spec);
    const privacy = settings.success ? settings.data.privacy : undefined;
    return {
      federationId: federation.id,
      // the federation's accountant, which each site pinned; each site's epsilon is composed with the accountant
      // its receipts name (ledger/audit.ts), the same one
      accountant: privacy?.mode === 'local' ? (privacy.accountant ?? 'rdp') : 'rdp',
      sites: visible
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((s) => ({ siteId: s.id, name: s.name, status: s.status, ...budgetOf(s, budgets.get(s.id)) })),
    };
  }

  async ledgerExport(federationId: string): Promise<string> {
    const federation = await this.federations.get(federationId);
    return this.ledger.exportLedger(federation.id);
  }

  async ledgerStatus(federationId: string) {
    const federation = await this.federations.get(federationId);
    const report = await this.audits.audit(federation.id);
    return {
      federationId: federation.id,
      ok: report.ok,
      entries: report.entries,
      head: report.head,
      findings: report.findings,
    };
  }

  /** Each charged site's audit (by site id), from the cached audit of the current ledger head. */
  async siteAudits(federationId: string): Promise<Map<string, SiteAudit>> {
    const report = await this.audits.audit(federationId);
    return new Map(report.sites.map((s) => [s.site, s]));
  }
}

export function budgetOf(
  site: { capEpsilon: number; capDelta: number },
  audited: { epsilon: number; delta: number; cap: number; remaining: number; charges: number } | undefined,
) {
  const epsilon = audited?.epsilon ?? 0;
  return {
    epsilonSpent: epsilon,
    delta: audited?.delta ?? site.capDelta,
    capEpsilon: audited?.cap ?? site.capEpsilon,
    capDelta: audited?.delta ?? site.capDelta,
    remaining: (audited?.cap ?? site.capEpsilon) - epsilon,
    charges: audited?.charges ?? 0,
  };
}
