import { createHash } from 'node:crypto';
import { ConcordError, type EvaluationMetrics, type RosterMember } from '@concord/protocol';
import type { Db } from '../../db/client.js';
import type { Round } from '../../db/schema/rounds.js';
import type { AgentConnectionsRepository } from '../../repositories/agent-connections.repository.js';
import type { FederationRepository } from '../../repositories/federation.repository.js';
import type { KeyRepository } from '../../repositories/key.repository.js';
import type { LedgerRepository } from '../../repositories/ledger.repository.js';
import type { MetricRepository } from '../../repositories/metric.repository.js';
import type { ModelVersionRepository } from '../../repositories/model-version.repository.js';
import type { RoundRepository } from '../../repositories/round.repository.js';
import type { SiteRepository } from '../../repositories/site.repository.js';
import type { StageDrop } from '../secagg-session.js';
import type { FederationSettings } from '../settings.js';
import type { StageProfile } from './stopwatch.js';

export interface RoundReport {
  roundId: string;
  roundNumber: number;
  /** training (releases a model version) or evaluation (private evaluation of `modelVersion`) */
  kind: 'training' | 'evaluation';
  state: 'released' | 'failed';
  reason?: string;
  cohort: number;
  survivors: number;
  drops: StageDrop[];
  modelVersion?: number;
  accuracy?: number;
  loss?: number;
  /** an evaluation round's noisy metrics with the std of their noise */
  evaluation?: EvaluationMetrics;
  /** L2 norm of the decoded round update (mean delta, or the noisy gradient sum): a check that the masks cancelled */
  updateNorm?: number;
  /** wall milliseconds per stage (stored on the round as `stageTimings`) */
  timings: Record<string, number>;
  /** wall, CPU and main-thread busy milliseconds per stage, in stage order (./stopwatch.ts says what each counts) */
  profile: Record<string, StageProfile>;
}

export interface RunHooks {
  /**
   * Evaluates the released model (simulate/demo: the server's held-out set); binary tables add ROC AUC, PR AUC and
   * log-loss, recorded with the others.
   */
  evaluate?: (
    weights: Float32Array,
  ) => Promise<{ accuracy: number; loss: number; rocAuc?: number; prAuc?: number; logLoss?: number }>;
  onRound?: (report: RoundReport) => void;
  signal?: AbortSignal;
  /** give up after this many failed rounds in a row (default 20) */
  maxConsecutiveFailures?: number;
}

export interface RunSummary {
  released: number;
  failed: number;
  weights: Float32Array;
  modelVersion: number;
}

export interface RoundEngineDeps {
  db: Db;
  federations: FederationRepository;
  sites: SiteRepository;
  rounds: RoundRepository;
  models: ModelVersionRepository;
  metrics: MetricRepository;
  ledger: LedgerRepository;
  keys: KeyRepository;
  connections: AgentConnectionsRepository;
}

/** A round that cannot go on; the engine fails it (charges made so far stay) and retries with a new round. */
export class RoundFailure extends ConcordError {
  constructor(
    override readonly code: string,
    message: string,
  ) {
    super(code, `${code}: ${message}`);
    this.name = 'RoundFailure';
  }
}

/** What every stage of one round knows: the federation, its settings, the persisted round and its roster. */
export interface RoundContext {
  federationId: string;
  settings: FederationSettings;
  round: Round;
  roster: RosterMember[];
  /** an evaluation round: the model version evaluated (the plan builder adds the evaluation block) */
  evaluationOf?: number;
  /** records the milliseconds since the previous lap under `name` */
  lap(name: string): void;
  timings: Record<string, number>;
}

export { stopwatch, type StageProfile } from './stopwatch.js';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
