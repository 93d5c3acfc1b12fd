import { Controller, Get, Inject, Param, Query, Res, UseGuards } from '@nestjs/common';
import { ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiPagedQuery } from '../dtos/openapi.js';
import {
  IdSchema,
  MetricListQuerySchema,
  PageQuerySchema,
  RoundListQuerySchema,
  VersionSchema,
  type MetricListQuery,
  type PageQuery,
  type RoundListQuery,
} from '../dtos/operator.dto.js';
import { ApiKeyGuard, Roles } from '../guards/api-key.guard.js';
import { ZodPipe } from '../pipes/zod.pipe.js';
import { ModelsService } from '../services/models.service.js';
import { RoundsService } from '../services/rounds.service.js';

const FederationId = new ZodPipe(IdSchema, 'federationId');
const Version = new ZodPipe(VersionSchema, 'version');

/** Rounds (stage timings, participants, dropouts), model versions (safetensors + certificate), metric series. */
@ApiTags('rounds, models, metrics')
@ApiSecurity('api-key')
@Controller('api/federations/:federationId')
@UseGuards(ApiKeyGuard)
@Roles('operator')
export class RoundsController {
  constructor(
    @Inject(RoundsService) private readonly rounds: RoundsService,
    @Inject(ModelsService) private readonly models: ModelsService,
  ) {}

  @Get('rounds')
  @ApiPagedQuery({
    state: ['open', 'training', 'unmasking', 'aggregated', 'released', 'failed'],
    kind: ['training', 'evaluation'],
  })
  list(
    @Param('federationId', FederationId) id: string,
    @Query(new ZodPipe(RoundListQuerySchema, 'query')) query: RoundListQuery,
  ) {
    return this.rounds.list(id, query);
  }

  @Get('rounds/:roundId')
  round(
    @Param('federationId', FederationId) id: string,
    @Param('roundId', new ZodPipe(IdSchema, 'roundId')) roundId: string,
  ) {
    return this.rounds.get(id, roundId);
  }

  @Get('models')
  @ApiPagedQuery()
  modelList(
    @Param('federationId', FederationId) id: string,
    @Query(new ZodPipe(PageQuerySchema, 'query')) query: PageQuery,
  ) {
    return this.models.list(id, query);
  }

  @Get('models/:version/download')
  async download(
    @Param('federationId', FederationId) id: string,
    @Param('version', Version) version: number,
    @Res() res: Response,
  ) {
    const { bytes, filename } = await this.models.file(id, version);
    res.attachment(filename).type('application/octet-stream').send(Buffer.from(bytes));
  }

  @Get('models/:version/certificate')
  certificate(@Param('federationId', FederationId) id: string, @Param('version', Version) version: number) {
    return this.models.certificate(id, version);
  }

  @Get('metrics')
  @ApiPagedQuery({ name: 'string' })
  metrics(
    @Param('federationId', FederationId) id: string,
    @Query(new ZodPipe(MetricListQuerySchema, 'query')) query: MetricListQuery,
  ) {
    return this.rounds.metricSeries(id, query);
  }
}
