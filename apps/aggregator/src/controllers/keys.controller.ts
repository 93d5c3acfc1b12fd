import { Body, Controller, Delete, Get, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBody, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { ApiPagedQuery, openApiBody } from '../dtos/openapi.js';
import {
  AuditListQuerySchema,
  CreateKeyBodySchema,
  IdSchema,
  KeyListQuerySchema,
  type AuditListQuery,
  type CreateKeyBody,
  type KeyListQuery,
} from '../dtos/operator.dto.js';
import { ApiKeyGuard, Principal, Roles, ScopedFilter } from '../guards/api-key.guard.js';
import { ZodPipe } from '../pipes/zod.pipe.js';
import type { ApiPrincipal } from '../services/api-key.service.js';
import { KeysService } from '../services/keys.service.js';

/**
 * API keys (unscoped admin only; the key is in the POST answer only) and the audit log of operator actions (a scoped
 * key sees its federation's entries only). Rate-limited.
 */
@ApiTags('keys and audit log')
@ApiSecurity('api-key')
@Controller('api')
@UseGuards(ApiKeyGuard, ThrottlerGuard)
@Roles('admin')
export class KeysController {
  constructor(@Inject(KeysService) private readonly keys: KeysService) {}

  @Post('keys')
  @ApiBody(openApiBody(CreateKeyBodySchema))
  create(@Body(new ZodPipe(CreateKeyBodySchema, 'body')) body: CreateKeyBody, @Principal() actor: ApiPrincipal) {
    return this.keys.create(body, actor);
  }

  @Get('keys')
  @ApiPagedQuery({ role: ['admin', 'operator', 'auditor', 'site'] })
  list(@Query(new ZodPipe(KeyListQuerySchema, 'query')) query: KeyListQuery) {
    return this.keys.list(query);
  }

  @Delete('keys/:keyId')
  revoke(@Param('keyId', new ZodPipe(IdSchema, 'keyId')) keyId: string, @Principal() actor: ApiPrincipal) {
    return this.keys.revoke(keyId, actor);
  }

  @Get('audit-log')
  @ApiPagedQuery({ federationId: 'string', action: 'string' })
  @Roles('auditor')
  @ScopedFilter()
  audit(@Query(new ZodPipe(AuditListQuerySchema, 'query')) query: AuditListQuery, @Principal() actor: ApiPrincipal) {
    return this.keys.listAudit(query, actor.federationId ?? undefined);
  }
}
