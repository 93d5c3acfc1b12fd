/**
 * A whole federation on one machine: a real aggregator (Nest, socket.io, Postgres/PGlite, SecAgg+, the ledger)
 * and N real agent runtimes over loopback socket.io, on a pool of worker threads (virtual-pool.ts), a thread each
 * (the former runtime, for comparison) or inline (tests).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AgentEvent } from '@concord/client-agent';
import { binaryMetrics } from '@concord/datasets';
import { ConcordError } from '@concord/protocol';
import { evaluate, predict } from '@concord/native';
import type { RoundReport } from '../federation/round-engine.js';
import { migratedPgliteTemplate } from '../db/pglite-template.js';
import { FederationRepository } from '../repositories/federation.repository.js';
import { KeyRepository } from '../repositories/key.repository.js';
import { LedgerRepository } from '../repositories/ledger.repository.js';
import { ModelVersionRepository } from '../repositories/model-version.repository.js';
import { SiteRepository } from '../repositories/site.repository.js';
import { openMigratedDatabase, startServer, type RunningServer } from '../server.js';
import { EnrollmentError, EnrollmentService } from '../services/enrollment.service.js';
import { FederationRunnerService } from '../services/federation-runner.service.js';
import { loopbackServerConfig } from './loopback-config.js';
import { perSiteEpsilonOf } from './sim-epsilon.js';
import type { SimulationOptions, SimulationResult } from './sim-options.js';
import { preprocessOffThread, simulationData, simulationSeed, siteShard } from './sim-settings.js';
import { compareEvaluations } from './sim-compare.js';
import { exactEvaluator } from './sim-exact.js';
import { runSimSite, SiteEnrollmentError } from './sim-site.js';
import { startVirtualAgents, type VirtualAgents } from './virtual-pool.js';

/** `--reproducible` sites have the same identity keys every run: a database that saw them refuses them again. */
function reproducibleHint(reason: string): string {
  return /E_DUPLICATE_KEY|already enrolled/i.test(reason)
    ? '; with --reproducible the sites keep their keys from run to run, so use the in-memory database or a fresh one'
    : '';
}

/**
 * Runs one simulation: starts the aggregator on loopback (its own key directory, no autorun), creates the federation,
 * enrolls and starts `o.sites` agents (worker threads, or inline), runs the rounds, then evaluates the final model on
 * the server's reference set and reads each site's epsilon from the ledger.
 */
export async function runSimulation(o: SimulationOptions): Promise<SimulationResult> {
  const started = Date.now();
  const { settings, train, parts, heldOut } = simulationData(o);
  // the server's test set is needed at the first evaluation: preprocessed on another core while the server starts
  const testReady = preprocessOffThread(settings.preprocess, heldOut);
  testReady.catch(() => {}); // awaited below; a failure surfaces there

  // each site's cap is the target itself: the calibration never exceeds it (the 1e-9 is float slack only, so the
  // demo shows cap 3.0000 for epsilon 3, not 3.0003)
  const cap = { epsilon: o.mode === 'none' ? 1 : o.epsilon * (1 + 1e-9), delta: o.delta };
  // simulate makes the sites' identity seeds so it can redraw their validation splits for the exact check
  const identitySeeds = parts.map((_, i) =>
    o.reproducible ? new Uint8Array(simulationSeed(o.seed, `identity ${i}`)) : new Uint8Array(randomBytes(32)),
  );
  const reproducibleSeeds = parts.map((_, i) =>
    o.reproducible ? new Uint8Array(simulationSeed(o.seed, `site ${i}`)) : undefined,
  );
  // virtual agents: the pool's threads start now (they load the addon and the sites make their keys while the
  // aggregator starts); the sites enroll once `start` gives them its URL and their tokens
  let enrollment!: EnrollmentService;
  let pool: VirtualAgents | undefined;
  let startPool!: (v: { server: string; tokens: readonly string[] }) => void;
  let failPool!: (error: unknown) => void;
  if ((o.agents ?? 'virtual') === 'virtual') {
    const start = new Promise<{ server: string; tokens: readonly string[] }>((resolve, reject) => {
      startPool = resolve;
      failPool = reject;
    });
    pool = startVirtualAgents({
      start,
      sites: parts.map((rows, i) => ({
        name: `site-${i}`,
        rows,
        identitySeed: identitySeeds[i],
        reproducibleSeed: reproducibleSeeds[i],
      })),
      train,
      preprocess: settings.preprocess,
      cap,
      accountant: o.accountant,
      dropout: o.dropout,
      onSiteEvent: o.onSiteEvent,
      // the sites' own requests, enrolled in batches in this process (no HTTP round trip per site, one
      // transaction per batch), each checked and answered exactly as POST /api/enroll would; requests come only
      // after `start`, when the aggregator is up
      enroll: async (requests) =>
        (await enrollment.enrollMany(requests)).map((r) =>
          r instanceof EnrollmentError ? { ok: false, code: r.code, message: r.message } : { ok: true, response: r },
        ),
    });
  }

  const keyDir = mkdtempSync(join(tmpdir(), 'concord-sim-keys-'));
  let server: RunningServer;
  let federation: { id: string };
  try {
    // in memory: from the cached migrated template (skips initdb, seconds of this thread before the first site)
    const database = await openMigratedDatabase(
      { databaseUrl: o.databaseUrl, dataDir: 'memory' },
      o.databaseUrl ? undefined : await migratedPgliteTemplate(),
    );
    server = await startServer({ config: loopbackServerConfig(keyDir), database });
    void server.app.get(KeyRepository).publicKey; // creates the key while the key directory exists
    enrollment = server.app.get(EnrollmentService);
    federation = await server.app.get(FederationRepository).create({
      name: `simulation-${new Date().toISOString()}`,
      spec: settings as unknown as Record<string, unknown>,
    });
  } catch (error) {
    failPool?.(error);
    await pool?.stop();
    rmSync(keyDir, { recursive: true, force: true });
    throw error;
  }
  const siteRepository = server.app.get(SiteRepository);
  const runner = server.app.get(FederationRunnerService);
  const ledger = server.app.get(LedgerRepository);

  await o.onReady?.(server, federation.id);
  // A site the aggregator refuses to enroll is left out; once too few sites are left for a cohort to ever start,
  // the simulation stops with the refusal (the federation would otherwise wait forever for sites that never come).
  let stopOnRefusal!: (error: SiteEnrollmentError) => void;
  const refused = new Promise<never>((_, reject) => (stopOnRefusal = reject));
  refused.catch(() => {}); // raced below
  let refusedSites = 0;
  const enrollmentRefused = (error: SiteEnrollmentError) => {
    refusedSites++;
    if (o.sites - refusedSites < settings.cohort.minSites) stopOnRefusal(error);
  };
  const stopSites = new AbortController();
  const workers: Worker[] = [];
  const siteRuns: Promise<unknown>[] = [];
  for (let i = 0; i < o.sites && !pool; i++) {
    const { token } = await enrollment.issueToken(federation.id);
    const name = `site-${i}`;
    const shard = siteShard(settings, train, parts[i]);
    const siteOptions = {
      server: server.url,
      token,
      name,
      cap,
      accountant: o.accountant,
      dropout: o.dropout,
      data: { features: shard.features, labels: shard.labels, count: shard.count, featureCount: shard.featureCount },
      identitySeed: identitySeeds[i],
      reproducibleSeed: reproducibleSeeds[i],
    };
    if (o.agents === 'inline') {
      siteRuns.push(
        runSimSite({
          ...siteOptions,
          ...o.site?.(i),
          signal: stopSites.signal,
          onEvent: (e) => o.onSiteEvent?.(name, e),
        }).catch((error: unknown) => {
          if (error instanceof SiteEnrollmentError) enrollmentRefused(error);
        }),
      );
    } else {
      const worker = new Worker(new URL('./sim-worker.js', import.meta.url), { workerData: siteOptions });
      worker.on(
        'message',
        (m: { type: string; event?: AgentEvent; message?: string; enrollment?: { code: string } }) => {
          if (m.type === 'event' && m.event) o.onSiteEvent?.(name, m.event);
          if (m.type === 'error' && m.enrollment) {
            enrollmentRefused(new SiteEnrollmentError(m.enrollment.code, m.message ?? `${name} could not enroll`));
          }
        },
      );
      worker.on('error', () => {});
      workers.push(worker);
    }
  }

  const close = async () => {
    stopSites.abort();
    await pool?.stop();
    for (const w of workers) w.postMessage({ type: 'stop' });
    await Promise.all(workers.map((w) => w.terminate()));
    await Promise.allSettled(siteRuns);
    await server.close();
    rmSync(keyDir, { recursive: true, force: true });
  };

  try {
    if (pool) startPool({ server: server.url, tokens: await enrollment.issueTokens(federation.id, o.sites) });
    const test = await testReady;
    const reports: RoundReport[] = [];
    const isBinary =
      settings.model.loss === 'sigmoid-binary-cross-entropy' && settings.model.layers.at(-1)!.units === 1;
    const evaluateModel = async (weights: Float32Array) => {
      const base = await evaluate(settings.model, weights, test.features, test.labels);
      if (!isBinary) return base;
      const m = binaryMetrics(await predict(settings.model, weights, test.features), test.labels);
      return { ...base, rocAuc: m.rocAuc, prAuc: m.prAuc, logLoss: m.logLoss };
    };
    // every virtual site connects before the first cohort is drawn (the pool starts them a few dozen at a time)
    const poolReady = await pool?.ready;
    if (pool && poolReady && poolReady.authenticated < settings.cohort.minSites) {
      const [name, why] = [...pool.errors][0] ?? ['a site', 'no reason given'];
      throw new ConcordError(
        'E_SIMULATION',
        `${poolReady.failed} of ${o.sites} sites did not enroll and connect, too many for a cohort of ` +
          `${settings.cohort.minSites} (${name}: ${why})${reproducibleHint(why)}`,
      );
    }
    const summary = await Promise.race([
      runner.start(federation.id, {
        evaluate: evaluateModel,
        onRound: (r) => {
          reports.push(r);
          o.onRound?.(r);
        },
      }),
      refused.catch((error: SiteEnrollmentError) => {
        throw new SiteEnrollmentError(error.code, `${error.message}${reproducibleHint(error.code)}`, { cause: error });
      }),
    ]);
    const final = await evaluateModel(summary.weights);
    const binary = isBinary
      ? binaryMetrics(await predict(settings.model, summary.weights, test.features), test.labels)
      : undefined;
    const evaluations = await compareEvaluations(
      reports,
      exactEvaluator({ settings, train, parts, identitySeeds }),
      (version) => server.app.get(ModelVersionRepository).model(federation.id, version),
      summary.weights.length,
    );
    const entries = await ledger.entries(federation.id);
    const verification = await ledger.verifyLedger(federation.id);
    const sites = await siteRepository.sitesOf(federation.id);
    const perSiteEpsilon = perSiteEpsilonOf(entries, sites, o.delta, o.accountant);
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
      ...(pool && poolReady ? { pool: { threads: pool.threads, ...poolReady } } : {}),
      seconds: (Date.now() - started) / 1000,
      roundReports: reports,
      ...(evaluations.length > 0 ? { evaluations } : {}),
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
