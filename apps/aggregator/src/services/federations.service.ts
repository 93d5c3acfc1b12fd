import { readYamlText } from '@concord/fedopt';
import { FederationSpecError } from '@concord/protocol';
import type { Federation } from '../db/schema/federations.js';
import type { CreateFederationBody, FederationListQuery } from '../dtos/operator.dto.js';
import { settingsFromSpec } from '../federation/settings-from-spec.js';
import type { AuditLogRepository } from '../repositories/audit-log.repository.js';
import type { FederationRepository } from '../repositories/federation.repository.js';
import type { FederationRunnerService } from './federation-runner.service.js';
import { firstLine, page, recordAction, type Actor } from './operator-common.js';
import { OperatorError } from './operator-error.js';

export type FederationAction = 'pause' | 'resume' | 'archive';

const TRANSITIONS: Record<FederationAction, { from: Federation['status'][]; to: Federation['status'] }> = {
  pause: { from: ['active'], to: 'paused' },
  resume: { from: ['paused', 'draft'], to: 'active' },
  archive: { from: ['draft', 'active', 'paused', 'completed', 'exhausted'], to: 'archived' },
};

/** Federations and their lifecycle: create from a spec, pause, resume, archive; starting rounds when one goes active. */
export class FederationsService {
  constructor(
    private readonly federations: Pick<FederationRepository, 'get' | 'create' | 'setStatus' | 'listFederations'>,
    private readonly auditLog: Pick<AuditLogRepository, 'record'>,
    private readonly runner: Pick<FederationRunnerService, 'start'>,
  ) {}

  /** The federations, or only `onlyId` (a federation-scoped key sees its own and no other). */
  list(q: FederationListQuery, onlyId?: string) {
    return this.federations.listFederations({ status: q.status, id: onlyId }, page(q));
  }

  /** The federation, or E_NOT_FOUND. Every per-federation resource starts here. */
  async get(federationId: string): Promise<Federation> {
    const federation = await this.federations.get(federationId);
    if (!federation) throw new OperatorError('E_NOT_FOUND', `no federation ${federationId}`);
    return federation;
  }

  async create(b: CreateFederationBody, actor: Actor): Promise<Federation> {
    let specInput: unknown = b.spec;
    if (typeof b.spec === 'string') {
      try {
        specInput = readYamlText(b.spec);
      } catch (error) {
        throw new OperatorError('E_FEDERATION_SPEC', `spec: not valid YAML or JSON (${firstLine(error)})`, [
          { path: 'spec', message: 'not valid YAML or JSON' },
        ]);
      }
    }
    let settings;
    try {
      settings = settingsFromSpec(specInput).settings;
    } catch (error) {
      if (error instanceof FederationSpecError) {
        const issues = error.issues.map((i) => ({ path: i.path ? `spec.${i.path}` : 'spec', message: i.message }));
        throw new OperatorError('E_FEDERATION_SPEC', error.message, issues);
      }
      if (error instanceof RangeError || error instanceof TypeError || hasCode(error)) {
        throw new OperatorError('E_FEDERATION_SPEC', `spec: ${firstLine(error)}`, [
          { path: 'spec', message: firstLine(error) },
        ]);
      }
      throw error;
    }
    const name =
      typeof (specInput as { name?: unknown }).name === 'string' ? (specInput as { name: string }).name : 'federation';
    const federation = await this.federations.create({
      name,
      spec: settings as unknown as Record<string, unknown>,
      status: b.start ? 'active' : 'draft',
    });
    await recordAction(this.auditLog, actor, 'federation.create', federation.id, federation.id, {
      name,
      start: b.start,
    });
    if (b.start) this.startRounds(federation.id);
    return federation;
  }

  async change(federationId: string, action: FederationAction, actor: Actor): Promise<Federation> {
    const federation = await this.get(federationId);
    const rule = TRANSITIONS[action];
    if (!rule.from.includes(federation.status)) {
      throw new OperatorError('E_CONFLICT', `cannot ${action} a federation that is ${federation.status}`);
    }
    await this.federations.setStatus(federation.id, rule.to);
    await recordAction(this.auditLog, actor, `federation.${action}`, federation.id, federation.id, {
      from: federation.status,
      to: rule.to,
    });
    if (rule.to === 'active') this.startRounds(federation.id);
    return (await this.federations.get(federation.id))!;
  }

  /**
   * Starts the round loop in the background. Its promise is the runner's own, which handles a stop itself: the
   * reason goes to the federation's status reason and to the app logger (FederationRunnerService onError,
   * logRunnerStop), once. Nothing is swallowed here and nothing is logged twice.
   */
  private startRounds(federationId: string): void {
    void this.runner.start(federationId);
  }
}

function hasCode(error: unknown): boolean {
  return typeof (error as { code?: unknown })?.code === 'string';
}
