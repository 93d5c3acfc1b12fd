import { Body, Controller, Delete, Get, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBody, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { ApiPagedQuery, openApiBody } from '../dtos/openapi.js';
import {
  IdSchema,
  IssueTokenBodySchema,
  TokenListQuerySchema,
  type IssueTokenBody,
  type TokenListQuery,
} from '../dtos/operator.dto.js';
import { ApiKeyGuard, Principal, Roles } from '../guards/api-key.guard.js';
import { ZodPipe } from '../pipes/zod.pipe.js';
import type { ApiPrincipal } from '../services/api-key.service.js';
import { TokensService } from '../services/tokens.service.js';

const FederationId = new ZodPipe(IdSchema, 'federationId');

/** One-time enrollment tokens: the token is in the POST answer only (its sha256 is stored). Rate-limited. */
@ApiTags('enrollment tokens')
@ApiSecurity('api-key')
@Controller('api/federations/:federationId/tokens')
@UseGuards(ApiKeyGuard, ThrottlerGuard)
@Roles('operator')
export class EnrollmentTokensController {
  constructor(@Inject(TokensService) private readonly tokens: TokensService) {}

  @Post()
  @ApiBody(openApiBody(IssueTokenBodySchema))
  issue(
    @Param('federationId', FederationId) id: string,
    @Body(new ZodPipe(IssueTokenBodySchema, 'body', {})) body: IssueTokenBody,
    @Principal() actor: ApiPrincipal,
  ) {
    return this.tokens.issue(id, body, actor);
  }

  @Get()
  @ApiPagedQuery({ state: ['active', 'used', 'expired'] })
  list(
    @Param('federationId', FederationId) id: string,
    @Query(new ZodPipe(TokenListQuerySchema, 'query')) query: TokenListQuery,
  ) {
    return this.tokens.list(id, query);
  }

  @Delete(':tokenId')
  revoke(
    @Param('federationId', FederationId) id: string,
    @Param('tokenId', new ZodPipe(IdSchema, 'tokenId')) tokenId: string,
    @Principal() actor: ApiPrincipal,
  ) {
    return this.tokens.revoke(id, tokenId, actor);
  }
}
