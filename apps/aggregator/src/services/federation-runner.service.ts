import { setTimeout as sleep } from 'node:timers/promises';
import type { FederationStatusReason } from '../db/schema/federations.js';
import { isDatabaseUnavailable } from '../db/db-errors.js';
import type { FederationRepository } from '../repositories/federation.repository.js';
import type { RoundEngine, RunHooks, RunSummary } from '../federation/round-engine.js';
import { appLogger } from '../repositories/logger.repository.js';

/** The runner's default report of a loop that stopped: the app logger, with the error and its code. */
export function logRunnerStop(federationId: string, error: unknown): void {
  appLogger().error({ federationId, err: error }, 'federation round loop stopped');
}

export interface RunnerOptions {
  /** True when the database answers; a failed run is retried (not stopped) while this is false. */
  ping?: () => Promise<boolean>;
  /** first wait before a retry after a database loss, doubled up to maxBackoffMs (defaults 250 ms, 15 s) */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** false: resumeActive() starts nothing (config noAutorun); rounds start only when asked */
  autorun?: boolean;
}

/** Where a federation's round loop stands in this process. */
export interface RunnerState {
  state: 'running' | 'waiting-for-database' | 'stopped';
  reason?: FederationStatusReason;
}

const DB_REASON: FederationStatusReason = {
  code: 'E_DB_UNAVAILABLE',
  message: 'the database is unreachable; rounds resume by themselves when it is back',
};

/**
 * Runs each active federation's rounds once per process. On start (`resumeActive`), every federation left active
 * by a previous process is picked up again: the engine fails its interrupted round and carries on with a new one.
 * A database loss (connections killed, server restarting) is a fault to survive: the run is retried with backoff
 * until the database answers again, then the engine starts over (failing the interrupted round, as after a crash).
 */
export class FederationRunnerService {
  private readonly runs = new Map<string, Promise<RunSummary>>();
  private readonly states = new Map<string, RunnerState>();
  private readonly stop = new AbortController();

  constructor(
    private readonly engine: RoundEngine,
    private readonly federations: FederationRepository,
    private readonly onError: (federationId: string, error: unknown) => void = () => {},
    private readonly options: RunnerOptions = {},
  ) {}

  /** Whether this process resumes active federations at boot and answers for their loops in /health. */
  get autorun(): boolean {
    return this.options.autorun ?? true;
  }

  /** Starts (or returns the running) round loop of a federation. */
  start(federationId: string, hooks: Omit<RunHooks, 'signal'> = {}): Promise<RunSummary> {
    let run = this.runs.get(federationId);
    if (!run) {
      run = this.supervise(federationId, hooks);
      run.then(
        () => this.states.delete(federationId),
        async (error: unknown) => {
          this.runs.delete(federationId); // a later start (resume, restart) runs it again
          if (this.stop.signal.aborted) return;
          const reason = reasonOf(error);
          this.states.set(federationId, { state: 'stopped', reason });
          // Too many failed rounds in a row: stop spending the sites' budgets and hold the federation as paused, so
          // the operator sees it, fixes the cause and resumes it (the agents wait, connected, as for any pause).
          if ((error as { code?: unknown }).code === 'E_TOO_MANY_FAILURES') {
            await this.federations.setStatus(federationId, 'paused').catch(() => {});
          }
          await this.federations.setStatusReason(federationId, reason).catch(() => {});
          this.onError(federationId, error);
        },
      );
      this.runs.set(federationId, run);
    }
    return run;
  }

  private async supervise(federationId: string, hooks: Omit<RunHooks, 'signal'>): Promise<RunSummary> {
    const signal = this.stop.signal;
    let backoff = this.options.initialBackoffMs ?? 250;
    for (;;) {
      this.states.set(federationId, { state: 'running' });
      try {
        return await this.engine.runFederation(federationId, { ...hooks, signal });
      } catch (error) {
        if (signal.aborted || !(await this.databaseLost(error))) throw error;
      }
      this.states.set(federationId, { state: 'waiting-for-database', reason: DB_REASON });
      // wait for the database, doubling the pause each time it still does not answer
      do {
        await sleep(backoff, undefined, { signal });
        backoff = Math.min(backoff * 2, this.options.maxBackoffMs ?? 15_000);
      } while (!(await this.ping()));
      backoff = this.options.initialBackoffMs ?? 250;
      // the previous reason (if any) no longer holds: the loop is about to run again
      await this.federations.setStatusReason(federationId, null).catch(() => {});
    }
  }

  private async databaseLost(error: unknown): Promise<boolean> {
    return isDatabaseUnavailable(error) || !(await this.ping());
  }

  private ping(): Promise<boolean> {
    return this.options.ping ? this.options.ping().catch(() => false) : Promise.resolve(true);
  }

  async resumeActive(): Promise<string[]> {
    if (!this.autorun) return [];
    const active = await this.federations.listActive();
    // start() handles a stop itself (status reason + onError): nothing to catch here
    for (const f of active) void this.start(f.id);
    return active.map((f) => f.id);
  }

  /** True while the federation's loop is alive in this process (running or waiting for the database). */
  isRunning(federationId: string): boolean {
    return this.runs.has(federationId);
  }

  /** The loop's state; undefined when this process never ran it (or it completed). */
  stateOf(federationId: string): RunnerState | undefined {
    return this.states.get(federationId);
  }

  /** Every federation whose loop is alive but held up (waiting for the database), with why. */
  heldUp(): { federationId: string; reason: FederationStatusReason }[] {
    return [...this.states]
      .filter(([id, s]) => s.state === 'waiting-for-database' && s.reason && this.runs.has(id))
      .map(([federationId, s]) => ({ federationId, reason: s.reason! }));
  }

  shutdown(): void {
    this.stop.abort(new Error('the aggregator is shutting down'));
  }
}

function reasonOf(error: unknown): FederationStatusReason {
  const code = (error as { code?: unknown }).code;
  return {
    code: typeof code === 'string' && /^E_[A-Z_]+$/.test(code) ? code : 'E_RUNNER_STOPPED',
    message:
      error instanceof Error && /^E_[A-Z_]+: /.test(error.message)
        ? error.message.slice(0, 300)
        : 'the round loop stopped on an internal error; see the server log',
  };
}
