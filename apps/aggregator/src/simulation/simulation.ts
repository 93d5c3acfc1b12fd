/**
 * A whole federation on one machine: a real aggregator (Nest, socket.io, Postgres/PGlite, SecAgg+, the ledger)
 * and N real agent runtimes over loopback socket.io, in worker threads (or inline, for tests).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AgentEvent } from '@concord/client-agent';
import {
  binaryMetrics,
  loadMnist,
  parsePartitionScheme,
  partitionIndices,
  preprocessDataset,
  subset,
  type BinaryMetrics,
  type Dataset,
} from '@concord/datasets';
import { computeEpsilon, type Phase } from '@concord/dp';
import { evaluate, predict } from '@concord/native';
import type { WatermarkKey } from '@concord/watermark';
import { privacyPhaseOf, type PrivacyPlan, type receiptTermsOf } from '@concord/protocol';
import { serverConfigSchema } from '../config/config.schema.js';
import type { RoundReport } from '../federation/round-engine.js';
import type { FederationSettings } from '../federation/settings.js';
import { FederationRepository } from '../repositories/federation.repository.js';
import { SiteRepository } from '../repositories/site.repository.js';
import { KeyRepository } from '../repositories/key.repository.js';
import { LedgerRepository } from '../repositories/ledger.repository.js';
import { openMigratedDatabase, startServer, type RunningServer } from '../server.js';
import { EnrollmentService } from '../services/enrollment.service.js';
import { FederationRunnerService } from '../services/federation-runner.service.js';
import { settingsFromSpec } from '../federation/settings-from-spec.js';

export type DpMode = 'none' | 'local' | 'distributed';
import { runSimSite } from './sim-site.js';
import { splitTable, type SimDataset } from './sim-table.js';

export interface SimulationOptions {
  /** mnist (default), or a vendored table: adult, mammography (tables.ts: public schema, binary task) */
  dataset?: SimDataset;
  sites: number;
  /** rounds to release; undefined: the plan's default for the dataset and mode */
  rounds?: number;
  partition: string;
  mode: DpMode;
  epsilon: number;
  delta: number;
  accountant: 'rdp' | 'prv';
  dropout: number;
  seed: number;
  /** SecAgg+ neighbours per site (even, or sites-1); default ~2 log2 n */
  secaggNeighbours?: number;
  databaseUrl?: string;
  /** 'workers' (default): one worker thread per site; 'inline': same thread (tests run TypeScript sources) */
  agents?: 'workers' | 'inline';
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
  seconds: number;
  roundReports: RoundReport[];
  weights: Float32Array;
  settings: FederationSettings;
  server: RunningServer;
  /** the aggregator's signing key (for ownership certificates) */
  keys: KeyRepository;
  /** the federation's owner watermark key (embedded by the engine every round), when watermarking is on */
  watermarkKey?: WatermarkKey;
  close(): Promise<void>;
}

export function splitMnist(sites: number, partition: string, seed: number): { shards: Dataset[]; test: Dataset } {
  const { train, test } = loadMnist({ seed });
  const parts = partitionIndices(train.labels, { sites, scheme: parsePartitionScheme(partition), seed });
  return { shards: parts.map((rows) => subset(train, rows)), test };
}

export async function runSimulation(o: SimulationOptions): Promise<SimulationResult> {
  const started = Date.now();
  const extra = (o.spec ?? {}) as {
    dataset?: { kind?: string };
    cohort?: object;
    privacy?: { noiseMultiplier?: number };
    secureAggregation?: object;
  };
  const table = o.dataset && o.dataset !== 'mnist' ? splitTable(o, extra.dataset) : undefined;
  const { settings: resolved } = settingsFromSpec(
    {
      name: 'simulation',
      ...extra,
      dataset: table?.dataset ?? { kind: 'mnist' },
      // a table's logistic regression (121 inputs for Adult) is too narrow for the 256-bit owner watermark
      ...(table && !('watermark' in extra) ? { watermark: { enabled: false } } : {}),
      rounds: o.rounds,
      cohort: { ...extra.cohort, size: o.sites, minSites: o.sites },
      privacy:
        o.mode === 'none'
          ? { mode: 'none' }
          : {
              ...extra.privacy,
              mode: o.mode,
              // an explicit noise multiplier in the spec wins over a target epsilon
              ...(extra.privacy?.noiseMultiplier === undefined ? { epsilon: o.epsilon } : {}),
              delta: o.delta,
              accountant: o.accountant,
            },
      secureAggregation: {
        ...extra.secureAggregation,
        ...(o.secaggNeighbours === undefined ? {} : { neighbours: o.secaggNeighbours }),
      },
    },
    { cohortSize: o.sites, timeouts: { planMs: 60_000, stageMs: 60_000, trainingMs: 300_000 } },
  );
  const settings = o.settings ? o.settings(resolved) : resolved;
  const split = table ?? splitMnist(o.sites, o.partition, o.seed);
  // Data-independent preprocessing (fixed filters, no statistics of the data): each site applies it to its own
  // records; the server to its held-out digits. Tables were encoded by their public schema already.
  const shards = split.shards.map((d) => preprocessDataset(settings.preprocess, d));
  const test = preprocessDataset(settings.preprocess, split.test);

  const keyDir = mkdtempSync(join(tmpdir(), 'concord-sim-keys-'));
  const database = await openMigratedDatabase({ databaseUrl: o.databaseUrl, dataDir: 'memory' });
  const server: RunningServer = await startServer({
    config: serverConfigSchema.parse({
      port: 0,
      host: '127.0.0.1',
      keyDir,
      dataDir: 'memory',
      logLevel: 'silent',
      noAutorun: true,
      // every simulated site connects and enrolls from this one loopback address at once
      agentPreAuthConnectionsPerIp: 100_000,
      agentPreAuthMessagesPerMinutePerIp: 10_000_000,
      enrollPerMinutePerIp: 1_000_000,
    }),
    database,
  });
  const federations = server.app.get(FederationRepository);
  const siteRepository = server.app.get(SiteRepository);
  const enrollment = server.app.get(EnrollmentService);
  const runner = server.app.get(FederationRunnerService);
  const ledger = server.app.get(LedgerRepository);
  void server.app.get(KeyRepository).publicKey; // creates the key while the key directory exists
  const federation = await federations.create({
    name: `simulation-${new Date().toISOString()}`,
    spec: settings as unknown as Record<string, unknown>,
  });

  await o.onReady?.(server, federation.id);
  const stopSites = new AbortController();
  const workers: Worker[] = [];
  const siteRuns: Promise<unknown>[] = [];
  const cap = { epsilon: o.mode === 'none' ? 1 : o.epsilon * 1.0001, delta: o.delta };
  for (let i = 0; i < o.sites; i++) {
    const { token } = await enrollment.issueToken(federation.id);
    const name = `site-${i}`;
    const shard = shards[i];
    const siteOptions = {
      server: server.url,
      token,
      name,
      cap,
      accountant: o.accountant,
      dropout: o.dropout,
      data: { features: shard.features, labels: shard.labels, count: shard.count, featureCount: shard.featureCount },
    };
    if (o.agents === 'inline') {
      siteRuns.push(
        runSimSite({
          ...siteOptions,
          ...o.site?.(i),
          signal: stopSites.signal,
          onEvent: (e) => o.onSiteEvent?.(name, e),
        }).catch(() => {}),
      );
    } else {
      const worker = new Worker(new URL('./sim-worker.js', import.meta.url), { workerData: siteOptions });
      worker.on('message', (m: { type: string; event?: AgentEvent }) => {
        if (m.type === 'event' && m.event) o.onSiteEvent?.(name, m.event);
      });
      worker.on('error', () => {});
      workers.push(worker);
    }
  }

  const close = async () => {
    stopSites.abort();
    for (const w of workers) w.postMessage({ type: 'stop' });
    await Promise.all(workers.map((w) => w.terminate()));
    await Promise.allSettled(siteRuns);
    await server.close();
    rmSync(keyDir, { recursive: true, force: true });
  };

  try {
    const reports: RoundReport[] = [];
    const isBinary =
      settings.model.loss === 'sigmoid-binary-cross-entropy' && settings.model.layers.at(-1)!.units === 1;
    const evaluateModel = async (weights: Float32Array) => {
      const base = await evaluate(settings.model, weights, test.features, test.labels);
      if (!isBinary) return base;
      const m = binaryMetrics(await predict(settings.model, weights, test.features), test.labels);
      return { ...base, rocAuc: m.rocAuc, prAuc: m.prAuc, logLoss: m.logLoss };
    };
    const summary = await runner.start(federation.id, {
      evaluate: evaluateModel,
      onRound: (r) => {
        reports.push(r);
        o.onRound?.(r);
      },
    });
    const final = await evaluateModel(summary.weights);
    const binary = isBinary
      ? binaryMetrics(await predict(settings.model, summary.weights, test.features), test.labels)
      : undefined;
    const entries = await ledger.entries(federation.id);
    const verification = await ledger.verifyLedger(federation.id);
    const sites = await siteRepository.sitesOf(federation.id);
    const nameOf = new Map(sites.map((s) => [s.id, s.name]));
    const phases = new Map<string, Phase[]>();
    for (const e of entries) {
      const phase = privacyPhaseOf(receiptAsPlan(e.receipt));
      if (!phase) continue;
      const list = phases.get(e.siteId) ?? [];
      list.push(phase as Phase);
      phases.set(e.siteId, list);
    }
    const perSiteEpsilon: Record<string, number> = {};
    for (const s of sites) {
      const history = phases.get(s.id) ?? [];
      const anyDdg = history.some((p) => p.mechanism);
      perSiteEpsilon[nameOf.get(s.id)!] =
        history.length === 0
          ? 0
          : computeEpsilon(history, o.delta, { accountant: anyDdg ? 'rdp' : o.accountant }).epsilon;
    }
    const result: SimulationResult = {
      federationId: federation.id,
      mode: o.mode,
      rounds: summary.released,
      failedRounds: summary.failed,
      accuracy: final.accuracy,
      loss: final.loss,
      ...(binary ? { binary } : {}),
      testCount: test.count,
      epsilon: Math.max(0, ...Object.values(perSiteEpsilon)),
      delta: o.delta,
      perSiteEpsilon,
      ledgerVerified: verification.ok,
      ledgerEntries: entries.length,
      seconds: (Date.now() - started) / 1000,
      roundReports: reports,
      weights: summary.weights,
      settings,
      server,
      keys: server.app.get(KeyRepository),
      watermarkKey: settings.watermark
        ? server.app.get(KeyRepository).watermarkKey(federation.id, settings.model.inputSize)
        : undefined,
      close,
    };
    if (!o.keepRunning) await close();
    return result;
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}

/** A ledger receipt's terms in plan form, so the same phase function accounts both. */
function receiptAsPlan(receipt: NonNullable<ReturnType<typeof receiptTermsOf>>): PrivacyPlan {
  if (receipt.mode === 'local') {
    const { sampleRate, noiseMultiplier, steps, clipNorm, delta } = receipt;
    return { mode: 'local', sampleRate, noiseMultiplier, steps, clipNorm, delta };
  }
  const d = receipt.distributed!;
  return {
    mode: 'distributed',
    sampleRate: receipt.sampleRate,
    noiseMultiplier: receipt.noiseMultiplier,
    steps: 1,
    clipNorm: receipt.clipNorm,
    delta: receipt.delta,
    distributed: {
      scaleBits: Math.round(Math.log2(d.granularity)),
      roundingBeta: d.roundingBeta,
      dimension: d.dimension,
      modulusBits: 32,
      localNoiseVariance: d.localNoiseVariance,
      minNoisyClients: d.minNoisyClients,
      cohortSize: d.cohortSize,
      countWeight: 1,
    },
  };
}
