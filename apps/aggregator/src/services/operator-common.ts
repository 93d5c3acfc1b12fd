import type { z } from 'zod';
import type { PageQuerySchema } from '../dtos/operator.dto.js';
import type { AuditLogRepository } from '../repositories/audit-log.repository.js';
import type { ApiPrincipal } from './api-key.service.js';

/** Who performs an operator action (recorded in the audit log). */
export type Actor = Pick<ApiPrincipal, 'keyId' | 'role'>;

export function page(q: z.output<typeof PageQuerySchema>) {
  return { limit: q.limit, offset: q.offset };
}

/** Records one operator action in the audit log (never a secret: callers pass ids and non-secret details only). */
export function recordAction(
  auditLog: Pick<AuditLogRepository, 'record'>,
  actor: Actor,
  action: string,
  federationId: string | null,
  target: string | null,
  details: Record<string, unknown> = {},
): Promise<void> {
  return auditLog.record({ federationId, apiKeyId: actor.keyId, actorRole: actor.role, action, target, details });
}

export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0].slice(0, 300);
}
