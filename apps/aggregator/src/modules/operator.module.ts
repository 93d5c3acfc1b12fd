import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
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
import { MetricsQueryRepository, OperatorQueryRepository } from '../repositories/operator-query.repository.js';
import { MetricsRepository } from '../repositories/metrics.repository.js';
import { AgentConnectionsRepository } from '../repositories/agent-connections.repository.js';
import { MetricsService } from '../services/metrics.service.js';
import { ApiKeyService } from '../services/api-key.service.js';
import { EnrollmentService } from '../services/enrollment.service.js';
import { FederationRunnerService } from '../services/federation-runner.service.js';
import { OperatorService } from '../services/operator.service.js';
import { FederationModule } from './federation.module.js';

/** Requests per minute per client on the token and key endpoints (env CONCORD_RATE_LIMIT_PER_MINUTE, read at boot). */
const rateLimit = () => [{ ttl: 60_000, limit: Math.max(1, Number(process.env.CONCORD_RATE_LIMIT_PER_MINUTE) || 60) }];

/** The dashboard API: federations, tokens, sites, rounds, models, budgets, ledger, API keys and the audit log. */
@Module({
  imports: [FederationModule, ThrottlerModule.forRootAsync({ useFactory: rateLimit })],
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
    {
      provide: OperatorQueryRepository,
      useFactory: (d: DatabaseRepository) => new OperatorQueryRepository(d.db),
      inject: [DatabaseRepository],
    },
    { provide: ApiKeyService, useFactory: (r: ApiKeyRepository) => new ApiKeyService(r), inject: [ApiKeyRepository] },
    {
      provide: OperatorService,
      useFactory: (
        queries: OperatorQueryRepository,
        federations: FederationRepository,
        ledger: LedgerRepository,
        keys: KeyRepository,
        enrollment: EnrollmentService,
        runner: FederationRunnerService,
        apiKeys: ApiKeyService,
      ) => new OperatorService({ queries, federations, ledger, keys, enrollment, runner, apiKeys }),
      inject: [
        OperatorQueryRepository,
        FederationRepository,
        LedgerRepository,
        KeyRepository,
        EnrollmentService,
        FederationRunnerService,
        ApiKeyService,
      ],
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
        ledger: LedgerRepository,
        connections: AgentConnectionsRepository,
      ) => new MetricsService(metrics, queries, ledger, connections),
      inject: [MetricsRepository, MetricsQueryRepository, LedgerRepository, AgentConnectionsRepository],
    },
    ApiKeyGuard,
    MetricsAccessGuard,
    { provide: APP_FILTER, useClass: OperatorExceptionFilter },
  ],
  exports: [ApiKeyService, OperatorService, MetricsRepository],
})
export class OperatorModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestLogMiddleware).forRoutes('*path');
  }
}
