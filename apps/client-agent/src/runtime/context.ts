/**
 * What the agent's commands hand the runtime (the contract between `concord-agent run` and the round logic).
 * Keys, data and the local ledger are the site's machinery (commands/, keys/, data/, services/); the runtime only
 * uses them through these interfaces.
 */
import type { AccountantName, Phase } from '@concord/dp';
import type { PrivacyReceipt, PrivacyTerms } from '@concord/protocol';

export interface AgentIdentity {
  siteId: string;
  federationId: string;
  /** Ed25519 identity: the raw 32-byte seed. Never leaves the site. */
  identitySeed: Uint8Array;
  /** The aggregator's Ed25519 public key pinned at enrollment (base64 raw 32 bytes). */
  serverPublicKey: string;
  /**
   * The federation's privacy terms pinned at enrollment (mode, accountant, delta, clip norm; distributed: the
   * declared colluders c and the noise sizing rule). Every plan is decided against them (plan-decision.ts).
   */
  terms: PrivacyTerms;
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
 * is refused with E_CAP_EXCEEDED, whatever the aggregator asks), then `record` once the whole masked-input message
 * is built and validated and BEFORE it leaves the site (so a malformed route never costs budget, a crash never
 * loses a charge, and a charge recorded for a round that later failed stays counted).
 */
export interface BudgetGuard {
  /** The cap in force now ((epsilon, delta) over every round the site ever joins). Put in every receipt. */
  readonly cap: { epsilon: number; delta: number };
  /** How the site composes its history; must be the pinned accountant (plans are refused otherwise). */
  readonly accountant: AccountantName;
  check(phase: ChargePhase): { fits: boolean; epsilonBefore: number; epsilonAfter: number };
  /** The highest round number charged so far (0 when none): plans at or below it are refused. */
  lastChargedRound(): number;
  /** Durably records a signed receipt (with its phase and round number) before the update is sent. */
  record(entry: { receipt: PrivacyReceipt; signature: string; phase: ChargePhase; roundNumber: number }): Promise<void>;
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
  /**
   * R: rounds in a row aborted after this site revealed its graph-seed value before the agent stops with
   * E_TOO_MANY_ABORTS (default 3). A local setting, never read from a plan: it bounds an aborting aggregator to
   * at most R draws of the SecAgg+ graph per release (docs/threat-model.md, "The graph seed").
   */
  maxConsecutiveAborts?: number;
}
