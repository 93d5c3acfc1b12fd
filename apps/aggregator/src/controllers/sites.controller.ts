import { Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiPagedQuery } from '../dtos/openapi.js';
import { IdSchema, SiteListQuerySchema, type SiteListQuery } from '../dtos/operator.dto.js';
import { ApiKeyGuard, Principal, Roles } from '../guards/api-key.guard.js';
import { ZodPipe } from '../pipes/zod.pipe.js';
import type { ApiPrincipal } from '../services/api-key.service.js';
import { SitesService } from '../services/sites.service.js';

const FederationId = new ZodPipe(IdSchema, 'federationId');

@ApiTags('sites')
@ApiSecurity('api-key')
@Controller('api/federations/:federationId/sites')
@UseGuards(ApiKeyGuard)
@Roles('operator')
export class SitesController {
  constructor(@Inject(SitesService) private readonly sites: SitesService) {}

  @Get()
  @ApiPagedQuery({ status: ['active', 'suspended', 'revoked'] })
  list(
    @Param('federationId', FederationId) id: string,
    @Query(new ZodPipe(SiteListQuerySchema, 'query')) query: SiteListQuery,
  ) {
    return this.sites.list(id, query);
  }

  @Post(':siteId/revoke')
  @HttpCode(200)
  revoke(
    @Param('federationId', FederationId) id: string,
    @Param('siteId', new ZodPipe(IdSchema, 'siteId')) siteId: string,
    @Principal() actor: ApiPrincipal,
  ) {
    return this.sites.revoke(id, siteId, actor);
  }
}
