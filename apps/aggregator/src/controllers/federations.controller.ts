import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBody, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FEDERATION_STATUSES } from '../db/schema/federations.js';
import { ApiKeyGuard, Principal, Roles, ScopedFilter } from '../guards/api-key.guard.js';
import { ZodPipe } from '../pipes/zod.pipe.js';
import type { ApiPrincipal } from '../services/api-key.service.js';
import { FederationsService } from '../services/federations.service.js';
import { ApiPagedQuery, openApiBody } from '../dtos/openapi.js';
import {
  CreateFederationBodySchema,
  FederationListQuerySchema,
  IdSchema,
  type CreateFederationBody,
  type FederationListQuery,
} from '../dtos/operator.dto.js';

const FederationId = new ZodPipe(IdSchema, 'federationId');

@ApiTags('federations')
@ApiSecurity('api-key')
@Controller('api/federations')
@UseGuards(ApiKeyGuard)
@Roles('operator')
export class FederationsController {
  constructor(@Inject(FederationsService) private readonly federations: FederationsService) {}

  @Get()
  @Roles('operator', 'auditor')
  @ScopedFilter()
  @ApiPagedQuery({ status: [...FEDERATION_STATUSES] })
  list(
    @Query(new ZodPipe(FederationListQuerySchema, 'query')) query: FederationListQuery,
    @Principal() actor: ApiPrincipal,
  ) {
    return this.federations.list(query, actor.federationId ?? undefined);
  }

  @Post()
  @ApiBody(openApiBody(CreateFederationBodySchema))
  create(
    @Body(new ZodPipe(CreateFederationBodySchema, 'body')) body: CreateFederationBody,
    @Principal() actor: ApiPrincipal,
  ) {
    return this.federations.create(body, actor);
  }

  @Get(':federationId')
  @Roles('operator', 'auditor')
  get(@Param('federationId', FederationId) id: string) {
    return this.federations.get(id);
  }

  @Post(':federationId/pause')
  @HttpCode(200)
  pause(@Param('federationId', FederationId) id: string, @Principal() actor: ApiPrincipal) {
    return this.federations.change(id, 'pause', actor);
  }

  @Post(':federationId/resume')
  @HttpCode(200)
  resume(@Param('federationId', FederationId) id: string, @Principal() actor: ApiPrincipal) {
    return this.federations.change(id, 'resume', actor);
  }

  @Post(':federationId/archive')
  @HttpCode(200)
  archive(@Param('federationId', FederationId) id: string, @Principal() actor: ApiPrincipal) {
    return this.federations.change(id, 'archive', actor);
  }
}
