/**
 * The aggregator's own CPU time per round (issue 20 goal: at most 1 s at cohort 100 for the default model). The
 * aggregator runs in THIS process exactly as `concord simulate` runs it (Nest, socket.io, in-memory PGlite, SecAgg+,
 * the ledger) but with no held-out evaluation hook, which `concord serve` does not run either; the agents run in a
 * child process (agent-host.ts, the virtual-agent pool). So `process.cpuUsage()` here, and the stopwatch's per-stage
 * `cpuMs`, count the aggregator alone: its JS, its libuv pool, GC, and PGlite (in process; with a PostgreSQL server
 * the database's CPU would be in that server's process instead).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RoundReport } from '../federation/round-engine.js';
import { FederationRepository } from '../repositories/federation.repository.js';
import { KeyRepository } from '../repositories/key.repository.js';
import { LedgerRepository } from '../repositories/ledger.repository.js';
import { openMigratedDatabase, startServer } from '../server.js';
import { EnrollmentService } from '../services/enrollment.service.js';
import { FederationRunnerService } from '../services/federation-runner.service.js';
import type { AgentHostReply, AgentHostRequest } from './agent-host.js';
import { loopbackServerConfig } from './loopback-config.js';
import type { SimulationOptions } from './sim-options.js';
import { simulationInputs } from './sim-settings.js';

export interface RoundCpuResult {
  reports: RoundReport[];
  /** the aggregator process's CPU ms over all the rounds (waits between rounds included) */
  cpuMs: number;
  wallMs: number;
  agentThreads: number;
  ledgerEntries: number;
  ledgerVerified: boolean;
}

export async function runRoundCpu(
  o: Omit<SimulationOptions, 'agents' | 'site' | 'onSiteEvent' | 'keepRunning' | 'onReady'> & {
    /** the agent pool's threads (default: the cores) */
    threads?: number;
  },
): Promise<RoundCpuResult> {
  // training rounds only: an evaluation round (issue 17) is another kind of round, with other stages
  const { settings, train, parts } = simulationInputs({
    ...o,
    spec: { ...o.spec, evaluation: { ...(o.spec?.evaluation as object), enabled: false } },
  });
  const keyDir = mkdtempSync(join(tmpdir(), 'concord-round-cpu-'));
  const database = await openMigratedDatabase({ databaseUrl: o.databaseUrl, dataDir: 'memory' });
  const server = await startServer({ config: loopbackServerConfig(keyDir), database });
  const host = fork(new URL('./agent-host.js', import.meta.url), [], {
    serialization: 'advanced',
    // not the parent's flags (--input-type, --cpu-prof): the agents are not what is measured
    execArgv: [],
  });
  try {
    void server.app.get(KeyRepository).publicKey; // creates the key while the key directory exists
    const federation = await server.app.get(FederationRepository).create({
      name: `round-cpu-${new Date().toISOString()}`,
      spec: settings as unknown as Record<string, unknown>,
    });
    const enrollment = server.app.get(EnrollmentService);
    const sites = [];
    const tokens = [];
    for (let i = 0; i < o.sites; i++) {
      const { token } = await enrollment.issueToken(federation.id);
      sites.push({ name: `site-${i}`, rows: parts[i] });
      tokens.push(token);
    }
    const cap = { epsilon: o.mode === 'none' ? 1 : o.epsilon * 1.0001, delta: o.delta };
    const options = {
      server: server.url,
      tokens,
      sites,
      train,
      preprocess: settings.preprocess,
      cap,
      accountant: o.accountant,
      dropout: o.dropout,
    };
    host.send({ type: 'start', options: { ...options, threads: o.threads } } satisfies AgentHostRequest);
    const [ready] = (await Promise.race([
      once(host, 'message'),
      once(host, 'exit').then(([code]) => Promise.reject(new Error(`round-cpu: the agent host exited (${code})`))),
    ])) as [AgentHostReply];
    if (ready.failed > 0) throw new Error(`round-cpu: ${ready.failed} of ${o.sites} agents did not connect`);

    const reports: RoundReport[] = [];
    const wall0 = performance.now();
    const cpu0 = process.cpuUsage();
    await server.app.get(FederationRunnerService).start(federation.id, {
      onRound: (r) => {
        reports.push(r);
        o.onRound?.(r);
      },
    });
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - wall0;
    const ledger = server.app.get(LedgerRepository);
    const entries = await ledger.entries(federation.id);
    return {
      reports,
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs,
      agentThreads: ready.threads,
      ledgerEntries: entries.length,
      ledgerVerified: (await ledger.verifyLedger(federation.id)).ok,
    };
  } finally {
    if (host.connected) host.send({ type: 'stop' } satisfies AgentHostRequest);
    if (host.exitCode === null) await once(host, 'exit');
    await server.close();
    rmSync(keyDir, { recursive: true, force: true });
  }
}
