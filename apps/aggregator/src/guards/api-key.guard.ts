import {
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { ApiKeyRole } from '../repositories/api-key.repository.js';
import { ApiKeyService, type ApiPrincipal } from '../services/api-key.service.js';
import { OperatorError } from '../services/operator-error.js';

const ROLES_KEY = 'concord:roles';

/** Roles allowed on a controller or handler (admin is always allowed). Without it, admin only. */
export const Roles = (...roles: ApiKeyRole[]) => SetMetadata(ROLES_KEY, roles);

const SCOPED_FILTER_KEY = 'concord:scoped-filter';

/**
 * On a route without `:federationId`: a federation-scoped key may call it because the handler narrows what it
 * reads to the key's federation (the list of federations, the audit log). Without it, scoped keys are refused there.
 */
export const ScopedFilter = () => SetMetadata(SCOPED_FILTER_KEY, true);

type AuthedRequest = Request & { principal?: ApiPrincipal };

/** The authenticated key's principal (set by ApiKeyGuard). */
export const Principal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): ApiPrincipal => ctx.switchToHttp().getRequest<AuthedRequest>().principal!,
);

/** The API key from `x-api-key` or `Authorization: Bearer <key>`. */
function keyOf(request: Request): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header.trim();
  const authorization = request.headers.authorization;
  const match = typeof authorization === 'string' ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
  return match?.[1];
}

/**
 * API-key authentication with roles: 401 without a (live) key, 403 when the key's role is not allowed here, the key
 * is limited to another federation than the route's `:federationId`, or it is limited to a federation and the route
 * has none (unless the handler narrows to the key's federation: ScopedFilter). docs/operator.md has the matrix.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ApiKeyService) private readonly keys: ApiKeyService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    const key = keyOf(request);
    if (!key)
      throw new OperatorError('E_UNAUTHENTICATED', 'an API key is required (x-api-key or Authorization: Bearer)');
    const principal = await this.keys.authenticate(key);
    if (!principal) throw new OperatorError('E_UNAUTHENTICATED', 'unknown or revoked API key');
    const allowed = this.reflector.getAllAndOverride<ApiKeyRole[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]) ?? ['admin'];
    if (principal.role !== 'admin' && !allowed.includes(principal.role)) {
      throw new OperatorError('E_FORBIDDEN', `role ${principal.role} may not do this`);
    }
    const federationId = (request.params as Record<string, string | undefined>)?.federationId;
    if (principal.federationId && federationId !== undefined && federationId !== principal.federationId) {
      throw new OperatorError('E_FORBIDDEN', 'this key is limited to another federation');
    }
    // A scoped key (admin included) never reaches what lies outside its federation: keys, new federations, the
    // server-wide metrics; lists narrow themselves to its federation (ScopedFilter).
    if (principal.federationId && federationId === undefined && !this.scopedFilter(context)) {
      throw new OperatorError('E_FORBIDDEN', 'this key is limited to one federation');
    }
    request.principal = principal;
    return true;
  }

  private scopedFilter(context: ExecutionContext): boolean {
    return this.reflector.getAllAndOverride<boolean | undefined>(SCOPED_FILTER_KEY, [context.getHandler()]) === true;
  }
}
