/**
 * What the agent's commands hand the runtime (the contract between `concord-agent run` and the round logic).
 * Keys, data and the local ledger are the site's machinery (commands/, keys/, data/, services/); the runtime only
 * uses them through these interfaces.
 */
import type { Phase } from '@concord/dp';
import type { PrivacyReceipt } from '@concord/protocol';

export interface AgentIdentity {
  siteId: string;
  federationId: string;
  /** Ed25519 identity: the raw 32-byte seed. Never leaves the site. */
  identitySeed: Uint8Array;
  /** The aggregator's Ed25519 public key pinned at enrollment (base64 raw 32 bytes). */
  serverPublicKey: string;
}

/** The site's training data, already validated against the federation's schema and preprocessed. */
export interface TrainingData {
  /** count x featureCount, row-major */
  features: Float32Array;
  /** class index per row, as floats (softmax cross-entropy) */
  labels: Float32Array;
  count: number;
  featureCount: number;
}

/** One round's privacy cost: exactly @concord/dp's Phase (subsampled Gaussian, or the distributed discrete Gaussian). */
export type ChargePhase = Phase;

/**
 * The site's own budget guard and ledger. The runtime calls `check` when a plan arrives (a plan that does not fit
 * is refused with E_CAP_EXCEEDED, whatever the aggregator asks), then `record` BEFORE the masked update leaves
 * the site (so a crash never loses a charge; a charge recorded for a round that later failed stays counted).
 */
export interface BudgetGuard {
  /** The cap in force now ((epsilon, delta) over every round the site ever joins). Put in every receipt. */
  readonly cap: { epsilon: number; delta: number };
  check(phase: ChargePhase): { fits: boolean; epsilonBefore: number; epsilonAfter: number };
  /** Durably records a signed receipt (and its phase) before the update is sent. */
  record(entry: { receipt: PrivacyReceipt; signature: string; phase: ChargePhase }): Promise<void>;
}

export type AgentEvent =
  | { type: 'connected' }
  | { type: 'connect-failed'; message: string }
  | { type: 'authenticated' }
  | { type: 'disconnected'; reason: string }
  | { type: 'plan-accepted'; roundNumber: number; epsilonAfter: number }
  | { type: 'plan-refused'; roundNumber: number; code: string; reason: string }
  | { type: 'trained'; roundNumber: number; seconds: number }
  | { type: 'update-sent'; roundNumber: number }
  | { type: 'round-released'; roundNumber: number; modelVersion: number }
  | { type: 'round-aborted'; roundId: string; code: string }
  | { type: 'error'; code: string; message: string }
  | { type: 'done'; rounds: number };

export interface AgentContext {
  identity: AgentIdentity;
  data: TrainingData;
  budget: BudgetGuard;
  /** Progress and log sink (a bar on a TTY, lines, or JSON); optional. Never given secrets or raw data. */
  onEvent?: (event: AgentEvent) => void;
  /** native trainLocal threads (default 1) */
  threads?: number;
  /** where native training runs: cpu, cuda, or auto (CUDA when a GPU and the CUDA addon are present); default cpu */
  device?: 'cpu' | 'cuda' | 'auto';
  /**
   * Simulations only (`concord simulate --dropout P`): with this probability per round the site stops right before
   * masking (after sharing its keys), as a crashed site would; the aggregator must recover without it.
   */
  dropoutProbability?: number;
}
