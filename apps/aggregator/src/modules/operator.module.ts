import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import type { ServerConfig } from '../config/config.schema.js';
import { SERVER_CONFIG } from '../repositories/tokens.js';
import { EnrollmentTokensController } from '../controllers/enrollment-tokens.controller.js';
import { FederationsController } from '../controllers/federations.controller.js';
import { KeysController } from '../controllers/keys.controller.js';
import { LedgerController } from '../controllers/ledger.controller.js';
import { MetricsAccessGuard, MetricsController } from '../controllers/metrics.controller.js';
import { RoundsController } from '../controllers/rounds.controller.js';
import { SitesController } from '../controllers/sites.controller.js';
import { ApiKeyGuard } from '../guards/api-key.guard.js';
import { OperatorExceptionFilter } from '../guards/operator-exception.filter.js';
import { RequestLogMiddleware } from '../guards/request-log.middleware.js';
import { ApiKeyRepository } from '../repositories/api-key.repository.js';
import { DatabaseRepository } from '../repositories/database.repository.js';
import { FederationRepository } from '../repositories/federation.repository.js';
import { KeyRepository } from '../repositories/key.repository.js';
import { LedgerRepository } from '../repositories/ledger.repository.js';
import { AuditLogRepository } from '../repositories/audit-log.repository.js';
import { EnrollmentTokenRepository } from '../repositories/enrollment-token.repository.js';
import { MetricRepository } from '../repositories/metric.repository.js';
import { MetricsQueryRepository } from '../repositories/metrics-query.repository.js';
import { ModelVersionRepository } from '../repositories/model-version.repository.js';
import { RoundRepository } from '../repositories/round.repository.js';
import { SiteRepository } from '../repositories/site.repository.js';
import { MetricsRepository } from '../repositories/metrics.repository.js';
import { AgentConnectionsRepository } from '../repositories/agent-connections.repository.js';
import { MetricsService } from '../services/metrics.service.js';
import { ApiKeyService } from '../services/api-key.service.js';
import { EnrollmentService } from '../services/enrollment.service.js';
import { FederationRunnerService } from '../services/federation-runner.service.js';
import { BudgetsService } from '../services/budgets.service.js';
import { FederationsService } from '../services/federations.service.js';
import { KeysService } from '../services/keys.service.js';
import { LedgerAuditCache } from '../ledger/audit-cache.js';
import { ModelsService } from '../services/models.service.js';
import { RoundsService } from '../services/rounds.service.js';
import { SitesService } from '../services/sites.service.js';
import { TokensService } from '../services/tokens.service.js';
import { FederationModule } from './federation.module.js';

/** Requests per minute per client on the token and key endpoints (config rateLimitPerMinute). */
const rateLimit = (config: ServerConfig) => [{ ttl: 60_000, limit: config.rateLimitPerMinute }];

/** The dashboard API: federations, tokens, sites, rounds, models, budgets, ledger, API keys and the audit log. */
@Module({
  imports: [FederationModule, ThrottlerModule.forRootAsync({ useFactory: rateLimit, inject: [SERVER_CONFIG] })],
  controllers: [
    FederationsController,
    EnrollmentTokensController,
    SitesController,
    RoundsController,
    LedgerController,
    KeysController,
    MetricsController,
  ],
  providers: [
    {
      provide: ApiKeyRepository,
      useFactory: (d: DatabaseRepository) => new ApiKeyRepository(d.db),
      inject: [DatabaseRepository],
    },
    ...[AuditLogRepository].map((repository) => ({
      provide: repository,
      useFactory: (d: DatabaseRepository) => new repository(d.db),
      inject: [DatabaseRepository],
    })),
    { provide: ApiKeyService, useFactory: (r: ApiKeyRepository) => new ApiKeyService(r), inject: [ApiKeyRepository] },
    {
      provide: LedgerAuditCache,
      useFactory: (l: LedgerRepository, s: SiteRepository) => new LedgerAuditCache(l, s),
      inject: [LedgerRepository, SiteRepository],
    },
    {
      provide: FederationsService,
      useFactory: (f: FederationRepository, a: AuditLogRepository, r: FederationRunnerService) =>
        new FederationsService(f, a, r),
      inject: [FederationRepository, AuditLogRepository, FederationRunnerService],
    },
    {
      provide: TokensService,
      useFactory: (f: FederationsService, e: EnrollmentService, t: EnrollmentTokenRepository, a: AuditLogRepository) =>
        new TokensService(f, e, t, a),
      inject: [FederationsService, EnrollmentService, EnrollmentTokenRepository, AuditLogRepository],
    },
    {
      provide: BudgetsService,
      useFactory: (f: FederationsService, s: SiteRepository, l: LedgerRepository, c: LedgerAuditCache) =>
        new BudgetsService(f, s, l, c),
      inject: [FederationsService, SiteRepository, LedgerRepository, LedgerAuditCache],
    },
    {
      provide: SitesService,
      useFactory: (f: FederationsService, s: SiteRepository, b: BudgetsService, a: AuditLogRepository) =>
        new SitesService(f, s, b, a),
      inject: [FederationsService, SiteRepository, BudgetsService, AuditLogRepository],
    },
    {
      provide: RoundsService,
      useFactory: (f: FederationsService, r: RoundRepository, m: MetricRepository) => new RoundsService(f, r, m),
      inject: [FederationsService, RoundRepository, MetricRepository],
    },
    {
      provide: ModelsService,
      useFactory: (f: FederationsService, m: ModelVersionRepository, k: KeyRepository) => new ModelsService(f, m, k),
      inject: [FederationsService, ModelVersionRepository, KeyRepository],
    },
    {
      provide: KeysService,
      useFactory: (s: SiteRepository, k: ApiKeyService, a: AuditLogRepository) => new KeysService(s, k, a),
      inject: [SiteRepository, ApiKeyService, AuditLogRepository],
    },
    { provide: MetricsRepository, useFactory: () => new MetricsRepository() },
    {
      provide: MetricsQueryRepository,
      useFactory: (d: DatabaseRepository) => new MetricsQueryRepository(d.db),
      inject: [DatabaseRepository],
    },
    {
      provide: MetricsService,
      useFactory: (
        metrics: MetricsRepository,
        queries: MetricsQueryRepository,
        audits: LedgerAuditCache,
        connections: AgentConnectionsRepository,
      ) => new MetricsService(metrics, queries, audits, connections),
      inject: [MetricsRepository, MetricsQueryRepository, LedgerAuditCache, AgentConnectionsRepository],
    },
    ApiKeyGuard,
    MetricsAccessGuard,
    { provide: APP_FILTER, useClass: OperatorExceptionFilter },
  ],
  exports: [ApiKeyService, MetricsRepository],
})
export class OperatorModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestLogMiddleware).forRoutes('*path');
  }
}
