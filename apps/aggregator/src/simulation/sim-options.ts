/** What a simulation is asked (SimulationOptions) and what it answers (SimulationResult). */
import type { AgentEvent } from '@concord/client-agent';
import type { BinaryMetrics } from '@concord/datasets';
import type { WatermarkKey } from '@concord/watermark';
import type { RoundReport } from '../federation/round-engine.js';
import type { FederationSettings } from '../federation/settings.js';
import type { KeyRepository } from '../repositories/key.repository.js';
import type { RunningServer } from '../server.js';
import type { SimDataset } from './sim-table.js';

export type DpMode = 'none' | 'local' | 'distributed';

export interface SimulationOptions {
  /** mnist (default), or a vendored table: adult, mammography (tables.ts: public schema, binary task) */
  dataset?: SimDataset;
  sites: number;
  /** sites drawn per round (default: all of them); every site stays connected, the aggregator picks the cohort */
  cohort?: number;
  /** rounds to release; undefined: the plan's default for the dataset and mode */
  rounds?: number;
  partition: string;
  /**
   * Every random draw from `seed`: initial weights, the sites' keys and validation splits, and each site's batch
   * order, DP noise and rounding (client-agent context.ts reproducibleSeed); the owner watermark is off (its key is
   * random). For comparing runtimes and experiments only: a known seed makes the DP noise known.
   */
  reproducible?: boolean;
  mode: DpMode;
  epsilon: number;
  delta: number;
  accountant: 'rdp' | 'prv';
  dropout: number;
  seed: number;
  /** SecAgg+ neighbours per site (even, or sites-1); default ~2 log2 n */
  secaggNeighbours?: number;
  databaseUrl?: string;
  /**
   * 'virtual' (default): every site's agent runtime on a pool of worker threads sized to the cores (virtual-pool.ts);
   * 'workers': one worker thread per site (the former runtime, kept for comparison); 'inline': same thread (tests
   * run TypeScript sources)
   */
  agents?: 'virtual' | 'workers' | 'inline';
  /** per-site overrides for inline agents (tests): a dropout schedule, a different cap */
  site?: (index: number) => { dropout?: number | (() => number); cap?: { epsilon: number; delta: number } };
  /** a federation spec (`--spec FILE`): its fields apply where the options above do not set them */
  spec?: Record<string, unknown>;
  /** last-minute override of the resolved settings (tests) */
  settings?: (defaults: FederationSettings) => FederationSettings;
  onRound?: (report: RoundReport) => void;
  onSiteEvent?: (site: string, event: AgentEvent) => void;
  /** keep the server running after the rounds (the demo) */
  keepRunning?: boolean;
  /** called once the aggregator listens and the federation exists, before the sites start */
  onReady?: (server: RunningServer, federationId: string) => Promise<void> | void;
}

export interface SimulationResult {
  federationId: string;
  mode: DpMode;
  rounds: number;
  failedRounds: number;
  accuracy: number;
  loss: number;
  /** binary tables: ROC AUC, PR AUC, log-loss of the final model on the server's reference (test) set */
  binary?: BinaryMetrics;
  /** rows of the server's reference set */
  testCount: number;
  /** max over sites of the epsilon the ledger's receipts compose to (0 with no DP) */
  epsilon: number;
  delta: number;
  perSiteEpsilon: Record<string, number>;
  ledgerVerified: boolean;
  ledgerEntries: number;
  /** virtual agents: the pool's threads, and how many sites authenticated before the first round (the rest failed) */
  pool?: { threads: number; authenticated: number; failed: number };
  seconds: number;
  roundReports: RoundReport[];
  /**
   * Each private evaluation the federation released (noisy, with the std of its noise) beside the exact metric on the
   * union of all sites' validation splits (sim-exact.ts), and how many stds apart they are.
   */
  evaluations?: SimEvaluation[];
  weights: Float32Array;
  settings: FederationSettings;
  server: RunningServer;
  /** the aggregator's signing key (for ownership certificates) */
  keys: KeyRepository;
  /** the federation's owner watermark key (embedded by the engine every round), when watermarking is on */
  watermarkKey?: WatermarkKey;
  close(): Promise<void>;
}

export interface SimEvaluation {
  modelVersion: number;
  noisy: { accuracy?: number; loss: number; rocAuc?: number; records: number };
  std: { accuracy?: number; loss: number; rocAuc?: number; records: number };
  exact: { accuracy?: number; loss: number; rocAuc?: number; records: number };
  /** |noisy - exact| / std per metric */
  deviations: { accuracy?: number; loss: number; rocAuc?: number };
}
