/**
 * What the agent's commands hand the runtime (the contract between `concord-agent run` and the round logic).
 * Keys, data and the local ledger are the site's machinery (commands/, keys/, data/, services/budget/); the
 * runtime only uses them through these interfaces.
 */
import type { PrivacyTerms } from '@concord/protocol';
import type { BudgetGuard } from '../services/budget/budget-guard.js';

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
  | { type: 'round-evaluated'; roundNumber: number; modelVersion: number }
  | { type: 'round-aborted'; roundNumber: number; roundId: string; code: string }
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
   * Simulations only (`concord simulate --reproducible`, benchmarks): 32 bytes from which every random draw of a
   * round on this site is derived (batch order, DP noise, rounding), so two runtimes can be compared on the same
   * draws. NEVER set by `concord-agent run`: a known seed makes the DP noise known, which voids the privacy guarantee.
   */
  reproducibleSeed?: Uint8Array;
  /**
   * R: rounds in a row aborted after this site revealed its graph-seed value before the agent stops with
   * E_TOO_MANY_ABORTS (default 3). A local setting, never read from a plan: it bounds an aborting aggregator to
   * at most R draws of the SecAgg+ graph per release (docs/threat-model.md, "The graph seed").
   */
  maxConsecutiveAborts?: number;
}
