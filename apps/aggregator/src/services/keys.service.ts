import type { AuditListQuery, CreateKeyBody, KeyListQuery } from '../dtos/operator.dto.js';
import type { AuditLogRepository } from '../repositories/audit-log.repository.js';
import type { SiteRepository } from '../repositories/site.repository.js';
import type { ApiKeyService } from './api-key.service.js';
import { isDatabaseUnavailable } from '../db/db-errors.js';
import { page, recordAction, type Actor } from './operator-common.js';
import { OperatorError } from './operator-error.js';

/** API keys (created, listed, revoked; the key is returned once) and the audit log of operator actions. */
export class KeysService {
  constructor(
    private readonly sites: Pick<SiteRepository, 'getSite'>,
    private readonly apiKeys: Pick<ApiKeyService, 'create' | 'list' | 'revoke'>,
    private readonly auditLog: Pick<AuditLogRepository, 'record' | 'list'>,
  ) {}

  async create(input: CreateKeyBody, actor: Actor) {
    const b = { ...input };
    if (b.siteId !== undefined) {
      // a site key is bound to its site's federation, whatever the body says
      const site = await this.sites.getSite(b.siteId);
      if (!site || (b.federationId !== undefined && b.federationId !== site.federationId)) {
        throw new OperatorError('E_BAD_REQUEST', `body.siteId: no site ${b.siteId} in that federation`, [
          { path: 'body.siteId', message: 'unknown site' },
        ]);
      }
      b.federationId = site.federationId;
    }
    const created = await this.apiKeys.create(b).catch((error: unknown) => {
      // the driver's message quotes the SQL: answer with the cause, not the text (unreachable stays a 503)
      if (isDatabaseUnavailable(error)) throw error;
      throw new OperatorError('E_BAD_REQUEST', 'cannot create the key: unknown federation or site', [
        { path: 'body.federationId', message: 'unknown federation' },
      ]);
    });
    await recordAction(this.auditLog, actor, 'key.create', b.federationId ?? null, created.apiKey.id, {
      role: b.role,
      name: b.name,
    });
    return created;
  }

  list(q: KeyListQuery) {
    return this.apiKeys.list({ role: q.role, ...page(q) }).then((r) => ({ ...r, ...page(q) }));
  }

  async revoke(keyId: string, actor: Actor): Promise<{ revoked: true }> {
    if (!(await this.apiKeys.revoke(keyId))) throw new OperatorError('E_NOT_FOUND', `no live key ${keyId}`);
    await recordAction(this.auditLog, actor, 'key.revoke', null, keyId);
    return { revoked: true };
  }

  /** The audit log; with `onlyFederationId` (a scoped key) its federation's entries only, and no other on request. */
  listAudit(q: AuditListQuery, onlyFederationId?: string) {
    if (onlyFederationId && q.federationId !== undefined && q.federationId !== onlyFederationId) {
      throw new OperatorError('E_FORBIDDEN', 'this key is limited to another federation');
    }
    return this.auditLog.list({ federationId: onlyFederationId ?? q.federationId, action: q.action }, page(q));
  }
}
