import { Inject, Injectable } from '@nestjs/common';
import type { FederationStatusReason } from '../db/schema/federations.js';
import { DatabaseRepository, type StorageStatus } from '../repositories/database.repository.js';
import { FederationRepository } from '../repositories/federation.repository.js';
import { FederationRunnerService } from './federation-runner.service.js';

export interface HealthReason extends FederationStatusReason {
  federationId?: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  /** why the status is degraded (empty when ok) */
  reasons: HealthReason[];
  storage: StorageStatus;
}

@Injectable()
export class HealthService {
  constructor(
    @Inject(DatabaseRepository) private readonly database: DatabaseRepository,
    @Inject(FederationRepository) private readonly federations: FederationRepository,
    @Inject(FederationRunnerService) private readonly runner: FederationRunnerService,
  ) {}

  /**
   * Ok means the database answers, every migration has been applied, and every active federation's round loop is
   * alive and not waiting for the database. With config noAutorun (tests driving rounds themselves) loops are
   * not this process's job and are not checked.
   */
  async check(): Promise<HealthReport> {
    const storage = await this.database.status();
    const reasons: HealthReason[] = [];
    if (!storage.reachable) reasons.push({ code: 'E_DB_UNAVAILABLE', message: 'the database is unreachable' });
    else if (!storage.migrationsApplied) {
      reasons.push({ code: 'E_DB_MIGRATIONS', message: 'the database migrations are not all applied' });
    }
    for (const { federationId, reason } of this.runner.heldUp()) reasons.push({ federationId, ...reason });
    if (storage.reachable && this.runner.autorun) {
      for (const { id } of await this.federations.listActive().catch(() => [])) {
        if (this.runner.isRunning(id)) continue;
        const reason = this.runner.stateOf(id)?.reason;
        reasons.push({
          federationId: id,
          ...(reason ?? { code: 'E_RUNNER_STOPPED', message: 'the round loop is not running' }),
        });
      }
    }
    return { status: reasons.length === 0 ? 'ok' : 'degraded', reasons, storage };
  }
}
