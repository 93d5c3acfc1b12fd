import type { FederationStatusReason } from '../../db/schema/federations.js';
import type { AgentConnectionsRepository } from '../../repositories/agent-connections.repository.js';
import type { FederationRepository } from '../../repositories/federation.repository.js';
import type { LedgerRepository } from '../../repositories/ledger.repository.js';
import type { SiteRepository } from '../../repositories/site.repository.js';
import { appLogger } from '../../repositories/logger.repository.js';
import type { FederationSettings } from '../settings.js';
import { sitesWithBudget } from './budget.js';

export interface WaitingDeps {
  federations: Pick<FederationRepository, 'setStatusReason'>;
  sites: Pick<SiteRepository, 'sitesOf'>;
  ledger: Pick<LedgerRepository, 'entries'>;
  connections: Pick<AgentConnectionsRepository, 'connectedSites'>;
}

export type CohortPool =
  | { kind: 'ready'; sites: string[] }
  | { kind: 'exhausted'; reason: FederationStatusReason; withBudget: number; active: number };

/**
 * Stage "wait": the connected sites that can pay for one more round, once there are at least `minSites` of them.
 * While there are not, the federation's statusReason says why (and the server log, once per change):
 * `waiting: 3 of 6 sites connected` or `waiting: 2 sites with budget, need 6`. When fewer than `minSites` of the
 * enrolled active sites have budget left, connected or not, no round can ever run again: `exhausted`.
 * Polls every `pollMs` (connections and charges both change it); bounded by `signal`.
 */
export async function waitForCohortPool(
  deps: WaitingDeps,
  federationId: string,
  settings: FederationSettings,
  parameterCount: number,
  /** evaluation: the sites that can pay for an evaluation round of the federation (not a training round) */
  o: { signal?: AbortSignal; pollMs?: number; evaluation?: boolean } = {},
): Promise<CohortPool> {
  const need = settings.cohort.minSites;
  let shown: string | undefined;
  const show = async (reason: FederationStatusReason | null) => {
    if ((reason?.message ?? '') === (shown ?? '')) return;
    shown = reason?.message;
    await deps.federations.setStatusReason(federationId, reason).catch(() => {});
    if (reason) appLogger().info({ event: 'federation.waiting', federationId, ...reason }, reason.message);
  };
  for (;;) {
    o.signal?.throwIfAborted();
    const connected = deps.connections.connectedSites(federationId);
    const cohortSize = Math.min(settings.cohort.maxSites, Math.max(need, connected.length));
    const budget = await sitesWithBudget(deps, federationId, settings, cohortSize, parameterCount, o.evaluation);
    if (budget.active >= need && budget.withBudget.size < need) {
      const reason = {
        code: 'E_BUDGET_EXHAUSTED',
        message: `exhausted: ${budget.withBudget.size} of ${budget.active} sites have budget for another round, need ${need}`,
      };
      await show(reason);
      return { kind: 'exhausted', reason, withBudget: budget.withBudget.size, active: budget.active };
    }
    const ready = connected.filter((id) => budget.withBudget.has(id));
    if (ready.length >= need) {
      await show(null);
      return { kind: 'ready', sites: ready };
    }
    await show(
      connected.length < need
        ? { code: 'WAITING_FOR_SITES', message: `waiting: ${connected.length} of ${need} sites connected` }
        : { code: 'WAITING_FOR_BUDGET', message: `waiting: ${ready.length} sites with budget, need ${need}` },
    );
    await sleep(o.pollMs ?? 1000, o.signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal!.reason ?? new Error('aborted'));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
