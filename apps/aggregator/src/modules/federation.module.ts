import { Inject, Injectable, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { type ServerConfig } from '../config/config.schema.js';
import { EnrollmentController } from '../controllers/enrollment.controller.js';
import { RoundEngine } from '../federation/round-engine.js';
import { AgentGateway } from '../gateways/agent.gateway.js';
import { AgentConnectionsRepository } from '../repositories/agent-connections.repository.js';
import { DatabaseRepository } from '../repositories/database.repository.js';
import { FederationRepository } from '../repositories/federation.repository.js';
import { KeyRepository } from '../repositories/key.repository.js';
import { LedgerRepository } from '../repositories/ledger.repository.js';
import { RoundRepository } from '../repositories/round.repository.js';
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
    @Inject(FederationRepository) private readonly federations: FederationRepository,
  ) {}
  async onApplicationBootstrap(): Promise<void> {
    // report (never rewrite) enrolled keys that today's checks would refuse
    for (const finding of findBadSiteKeys(await this.federations.allSiteKeys().catch(() => []))) {
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
    {
      provide: FederationRepository,
      useFactory: (d: DatabaseRepository) => new FederationRepository(d.db),
      inject: [DatabaseRepository],
    },
    {
      provide: RoundRepository,
      useFactory: (d: DatabaseRepository) => new RoundRepository(d.db),
      inject: [DatabaseRepository],
    },
    {
      provide: LedgerRepository,
      useFactory: (d: DatabaseRepository) => new LedgerRepository(d.db),
      inject: [DatabaseRepository],
    },
    { provide: AgentConnectionsRepository, useFactory: () => new AgentConnectionsRepository() },
    {
      provide: AgentAuthService,
      useFactory: (f: FederationRepository, k: KeyRepository) => new AgentAuthService(f, k),
      inject: [FederationRepository, KeyRepository],
    },
    {
      provide: EnrollmentService,
      useFactory: (f: FederationRepository, k: KeyRepository) => new EnrollmentService(f, k),
      inject: [FederationRepository, KeyRepository],
    },
    {
      provide: RoundEngine,
      useFactory: (
        d: DatabaseRepository,
        federations: FederationRepository,
        rounds: RoundRepository,
        ledger: LedgerRepository,
        keys: KeyRepository,
        connections: AgentConnectionsRepository,
      ) => new RoundEngine({ db: d.db, federations, rounds, ledger, keys, connections }),
      inject: [
        DatabaseRepository,
        FederationRepository,
        RoundRepository,
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
    RoundRepository,
    LedgerRepository,
    AgentConnectionsRepository,
    EnrollmentService,
    RoundEngine,
    FederationRunnerService,
  ],
})
export class FederationModule {}
