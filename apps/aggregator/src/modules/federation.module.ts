import { Inject, Injectable, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { type ServerConfig } from '../config/config.schema.js';
import { EnrollmentController } from '../controllers/enrollment.controller.js';
import { RoundEngine } from '../federation/round-engine.js';
import { AgentGateway } from '../gateways/agent.gateway.js';
import { AgentConnectionsRepository } from '../repositories/agent-connections.repository.js';
import { DatabaseRepository } from '../repositories/database.repository.js';
import { EnrollmentTokenRepository } from '../repositories/enrollment-token.repository.js';
import { FederationRepository } from '../repositories/federation.repository.js';
import { KeyRepository } from '../repositories/key.repository.js';
import { LedgerRepository } from '../repositories/ledger.repository.js';
import { MetricRepository } from '../repositories/metric.repository.js';
import { ModelVersionRepository } from '../repositories/model-version.repository.js';
import { RoundRepository } from '../repositories/round.repository.js';
import { SiteRepository } from '../repositories/site.repository.js';
import { SERVER_CONFIG } from '../repositories/tokens.js';
import { AgentAuthService } from '../services/agent-auth.service.js';
import { EnrollmentService } from '../services/enrollment.service.js';
import { FederationRunnerService, logRunnerStop } from '../services/federation-runner.service.js';
import { findBadSiteKeys } from '../services/site-key-report.js';
import { appLogger } from '../repositories/logger.repository.js';

/** Resumes active federations when the app has booted; stops their loops on shutdown. */
@Injectable()
class FederationLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(
    @Inject(FederationRunnerService) private readonly runner: FederationRunnerService,
    @Inject(SiteRepository) private readonly sites: SiteRepository,
  ) {}
  async onApplicationBootstrap(): Promise<void> {
    // report (never rewrite) enrolled keys that today's checks would refuse
    for (const finding of findBadSiteKeys(await this.sites.allSiteKeys().catch(() => []))) {
      appLogger().warn(finding, 'an enrolled site key fails the key checks: re-enroll or revoke this site');
    }
    await this.runner.resumeActive();
  }
  onModuleDestroy(): void {
    this.runner.shutdown();
  }
}

/** Agents' gateway, enrollment, and the round engine with its repositories. */
@Module({
  controllers: [EnrollmentController],
  providers: [
    {
      provide: KeyRepository,
      useFactory: (config: ServerConfig) => new KeyRepository(config.keyDir),
      inject: [SERVER_CONFIG],
    },
    ...[
      FederationRepository,
      SiteRepository,
      EnrollmentTokenRepository,
      RoundRepository,
      ModelVersionRepository,
      MetricRepository,
      LedgerRepository,
    ].map((repository) => ({
      provide: repository,
      useFactory: (d: DatabaseRepository) => new repository(d.db),
      inject: [DatabaseRepository],
    })),
    { provide: AgentConnectionsRepository, useFactory: () => new AgentConnectionsRepository() },
    {
      provide: AgentAuthService,
      useFactory: (s: SiteRepository, k: KeyRepository) => new AgentAuthService(s, k),
      inject: [SiteRepository, KeyRepository],
    },
    {
      provide: EnrollmentService,
      useFactory: (
        d: DatabaseRepository,
        federations: FederationRepository,
        sites: SiteRepository,
        tokens: EnrollmentTokenRepository,
        k: KeyRepository,
      ) => new EnrollmentService({ db: d.db, federations, sites, tokens }, k),
      inject: [DatabaseRepository, FederationRepository, SiteRepository, EnrollmentTokenRepository, KeyRepository],
    },
    {
      provide: RoundEngine,
      useFactory: (
        d: DatabaseRepository,
        federations: FederationRepository,
        sites: SiteRepository,
        rounds: RoundRepository,
        models: ModelVersionRepository,
        metrics: MetricRepository,
        ledger: LedgerRepository,
        keys: KeyRepository,
        connections: AgentConnectionsRepository,
      ) => new RoundEngine({ db: d.db, federations, sites, rounds, models, metrics, ledger, keys, connections }),
      inject: [
        DatabaseRepository,
        FederationRepository,
        SiteRepository,
        RoundRepository,
        ModelVersionRepository,
        MetricRepository,
        LedgerRepository,
        KeyRepository,
        AgentConnectionsRepository,
      ],
    },
    {
      provide: FederationRunnerService,
      useFactory: (engine: RoundEngine, federations: FederationRepository, d: DatabaseRepository, c: ServerConfig) =>
        new FederationRunnerService(engine, federations, logRunnerStop, {
          ping: () => d.ping(),
          autorun: !c.noAutorun,
        }),
      inject: [RoundEngine, FederationRepository, DatabaseRepository, SERVER_CONFIG],
    },
    FederationLifecycle,
    AgentGateway,
  ],
  exports: [
    KeyRepository,
    FederationRepository,
    SiteRepository,
    EnrollmentTokenRepository,
    RoundRepository,
    ModelVersionRepository,
    MetricRepository,
    LedgerRepository,
    AgentConnectionsRepository,
    EnrollmentService,
    RoundEngine,
    FederationRunnerService,
  ],
})
export class FederationModule {}
