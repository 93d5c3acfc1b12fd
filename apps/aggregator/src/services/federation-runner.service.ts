import type { FederationRepository } from '../repositories/federation.repository.js';
import type { RoundEngine, RunHooks, RunSummary } from '../federation/round-engine.js';

/**
 * Runs each active federation's rounds once per process. On start (`resumeActive`), every federation left active
 * by a previous process is picked up again: the engine fails its interrupted round and carries on with a new one.
 */
export class FederationRunnerService {
  private readonly runs = new Map<string, Promise<RunSummary>>();
  private readonly stop = new AbortController();

  constructor(
    private readonly engine: RoundEngine,
    private readonly federations: FederationRepository,
    private readonly onError: (federationId: string, error: unknown) => void = () => {},
  ) {}

  /** Starts (or returns the running) round loop of a federation. */
  start(federationId: string, hooks: Omit<RunHooks, 'signal'> = {}): Promise<RunSummary> {
    let run = this.runs.get(federationId);
    if (!run) {
      run = this.engine.runFederation(federationId, { ...hooks, signal: this.stop.signal });
      run.catch(async (error: unknown) => {
        this.runs.delete(federationId); // a later start (resume, restart) runs it again
        if (this.stop.signal.aborted) return;
        // Too many failed rounds in a row: stop spending the sites' budgets and hold the federation as paused, so the
        // operator sees it, fixes the cause and resumes it (the agents wait, connected, as for any pause).
        if ((error as { code?: unknown }).code === 'E_TOO_MANY_FAILURES') {
          await this.federations.setStatus(federationId, 'paused').catch(() => {});
        }
        this.onError(federationId, error);
      });
      this.runs.set(federationId, run);
    }
    return run;
  }

  async resumeActive(): Promise<string[]> {
    const active = await this.federations.listActive();
    for (const f of active) void this.start(f.id).catch(() => {});
    return active.map((f) => f.id);
  }

  isRunning(federationId: string): boolean {
    return this.runs.has(federationId);
  }

  shutdown(): void {
    this.stop.abort(new Error('the aggregator is shutting down'));
  }
}
