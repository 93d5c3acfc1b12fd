import type { IssueTokenBody, TokenListQuery } from '../dtos/operator.dto.js';
import type { AuditLogRepository } from '../repositories/audit-log.repository.js';
import type { EnrollmentTokenRepository } from '../repositories/enrollment-token.repository.js';
import type { EnrollmentService } from './enrollment.service.js';
import type { FederationsService } from './federations.service.js';
import { page, recordAction, type Actor } from './operator-common.js';
import { OperatorError } from './operator-error.js';

/** One-time enrollment tokens: issued (the token is returned once, never logged), listed, revoked. */
export class TokensService {
  constructor(
    private readonly federations: Pick<FederationsService, 'get'>,
    private readonly enrollment: Pick<EnrollmentService, 'issueToken'>,
    private readonly tokens: Pick<EnrollmentTokenRepository, 'listTokens' | 'revokeToken'>,
    private readonly auditLog: Pick<AuditLogRepository, 'record'>,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async issue(federationId: string, b: IssueTokenBody, actor: Actor): Promise<{ token: string; expiresAt: string }> {
    const federation = await this.federations.get(federationId);
    if (federation.status === 'archived' || federation.status === 'completed' || federation.status === 'exhausted') {
      throw new OperatorError('E_CONFLICT', `federation is ${federation.status}: no new sites`);
    }
    const { token, expiresAt } = await this.enrollment.issueToken(federation.id, b.ttlMinutes * 60_000);
    await recordAction(this.auditLog, actor, 'token.issue', federation.id, null, {
      expiresAt: expiresAt.toISOString(),
    });
    return { token, expiresAt: expiresAt.toISOString() };
  }

  async list(federationId: string, q: TokenListQuery) {
    const federation = await this.federations.get(federationId);
    return this.tokens.listTokens(federation.id, { state: q.state }, this.clock(), page(q));
  }

  async revoke(federationId: string, tokenId: string, actor: Actor): Promise<{ revoked: true }> {
    const federation = await this.federations.get(federationId);
    if (!(await this.tokens.revokeToken(federation.id, tokenId, this.clock()))) {
      throw new OperatorError('E_NOT_FOUND', `no unused, unexpired token ${tokenId} in this federation`);
    }
    await recordAction(this.auditLog, actor, 'token.revoke', federation.id, tokenId);
    return { revoked: true };
  }
}
