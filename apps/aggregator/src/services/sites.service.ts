import type { SiteListQuery } from '../dtos/operator.dto.js';
import type { AuditLogRepository } from '../repositories/audit-log.repository.js';
import type { SiteRepository } from '../repositories/site.repository.js';
import { budgetOf, type BudgetsService } from './budgets.service.js';
import type { FederationsService } from './federations.service.js';
import { page, recordAction, type Actor } from './operator-common.js';
import { OperatorError } from './operator-error.js';

/** Enrolled sites with their status and budget (epsilon recomputed from the ledger); revocation. */
export class SitesService {
  constructor(
    private readonly federations: Pick<FederationsService, 'get'>,
    private readonly sites: Pick<SiteRepository, 'listSites' | 'setSiteStatus'>,
    private readonly budgets: Pick<BudgetsService, 'siteAudits'>,
    private readonly auditLog: Pick<AuditLogRepository, 'record'>,
  ) {}

  async list(federationId: string, q: SiteListQuery) {
    const federation = await this.federations.get(federationId);
    const [paged, budgets] = await Promise.all([
      this.sites.listSites(federation.id, { status: q.status }, page(q)),
      this.budgets.siteAudits(federation.id),
    ]);
    return {
      ...paged,
      items: paged.items.map((s) => ({
        id: s.id,
        name: s.name,
        status: s.status,
        identityPublicKey: s.identityPublicKey,
        createdAt: s.createdAt,
        lastSeenAt: s.lastSeenAt,
        budget: budgetOf(s, budgets.get(s.id)),
      })),
    };
  }

  async revoke(federationId: string, siteId: string, actor: Actor): Promise<{ revoked: true }> {
    const federation = await this.federations.get(federationId);
    if (!(await this.sites.setSiteStatus(federation.id, siteId, 'revoked'))) {
      throw new OperatorError('E_NOT_FOUND', `no site ${siteId} in this federation`);
    }
    await recordAction(this.auditLog, actor, 'site.revoke', federation.id, siteId);
    return { revoked: true };
  }
}
