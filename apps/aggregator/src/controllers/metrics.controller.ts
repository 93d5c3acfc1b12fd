import { Controller, Get, Inject, Injectable, Res, UseFilters, UseGuards, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import type { ServerConfig } from '../config/config.schema.js';
import { ApiKeyGuard, Roles } from '../guards/api-key.guard.js';
import { OperatorExceptionFilter } from '../guards/operator-exception.filter.js';
import { SERVER_CONFIG } from '../repositories/tokens.js';
import { ApiKeyService } from '../services/api-key.service.js';
import { MetricsService } from '../services/metrics.service.js';

/** The API-key guard, only when `metricsAuth` is 'api-key' (the default 'none' keeps scrapers working unchanged). */
@Injectable()
export class MetricsAccessGuard extends ApiKeyGuard {
  constructor(
    @Inject(Reflector) reflector: Reflector,
    @Inject(ApiKeyService) keys: ApiKeyService,
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
  ) {
    super(reflector, keys);
  }

  override canActivate(context: ExecutionContext): Promise<boolean> {
    return this.config.metricsAuth === 'api-key' ? super.canActivate(context) : Promise.resolve(true);
  }
}

/** GET /metrics: Prometheus text format; open unless `concord serve --metrics-auth api-key`. */
@ApiExcludeController()
@Controller('metrics')
@UseGuards(MetricsAccessGuard)
@UseFilters(OperatorExceptionFilter)
@Roles('operator', 'auditor')
export class MetricsController {
  constructor(@Inject(MetricsService) private readonly metrics: MetricsService) {}

  @Get()
  async scrape(@Res() res: Response): Promise<void> {
    const { contentType, text } = await this.metrics.scrape();
    res.type(contentType).send(text);
  }
}
