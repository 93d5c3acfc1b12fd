import { CliError } from '@concord/cli';
import { type ApiClient, seg } from './api-client.js';

export interface FederationView {
  id: string;
  name: string;
  status: string;
  statusReason?: { code: string; message: string } | null;
  spec: { rounds?: number; cohort?: { minSites?: number; maxSites?: number } } & Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

interface Paged<T> {
  items: T[];
  total: number;
}

export interface FederationProgress {
  federation: FederationView;
  /** released training rounds (each released a model version) */
  released: number;
  /** released evaluation rounds (private evaluations of released versions) */
  evaluations: number;
  failed: number;
  latestVersion: number | null;
}

/** The federation, how many rounds were released and failed, and its latest model version. */
export async function federationProgress(client: ApiClient, id: string): Promise<FederationProgress> {
  const base = `/api/federations/${seg(id)}`;
  const [federation, released, evaluations, failed, models] = await Promise.all([
    client.get<FederationView>(base),
    client.get<Paged<unknown>>(`${base}/rounds?state=released&kind=training&limit=1`),
    client.get<Paged<unknown>>(`${base}/rounds?state=released&kind=evaluation&limit=1`),
    client.get<Paged<unknown>>(`${base}/rounds?state=failed&limit=1`),
    client.get<Paged<{ version: number }>>(`${base}/models?limit=1`),
  ]);
  return {
    federation,
    released: released.total,
    evaluations: evaluations.total,
    failed: failed.total,
    latestVersion: models.items[0]?.version ?? null,
  };
}

/** Statuses after which no round will ever be released again without an operator (resume) or at all. */
const STOPPED = new Set(['paused', 'archived', 'exhausted', 'draft']);

export interface WaitOptions {
  /** wait for this many released rounds; undefined: until the federation completes */
  rounds?: number;
  timeoutMs: number;
  pollMs?: number;
  /** one line per change of progress, for people (stderr) */
  onProgress?: (p: FederationProgress) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Polls until `rounds` rounds are released (or, without `rounds`, the federation is completed). Resolves with the
 * last progress; throws CliError exit 1 when the time runs out or the federation stops (paused, archived,
 * exhausted, or completed before reaching `rounds`), naming its status and reason.
 */
export async function waitForFederation(client: ApiClient, id: string, o: WaitOptions): Promise<FederationProgress> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + o.timeoutMs;
  let lastLine = '';
  for (;;) {
    const progress = await federationProgress(client, id);
    const line = describeProgress(progress);
    if (line !== lastLine) o.onProgress?.(progress);
    lastLine = line;
    const { status } = progress.federation;
    if (o.rounds !== undefined ? progress.released >= o.rounds : status === 'completed') return progress;
    if (status === 'completed' || STOPPED.has(status)) {
      throw new CliError(`federation ${id} is ${status} after ${progress.released} released rounds${why(progress)}`, 1);
    }
    const left = deadline - now();
    if (left <= 0) {
      throw new CliError(
        `timed out: ${progress.released} of ${o.rounds ?? progress.federation.spec.rounds ?? '?'} rounds released, federation ${status}${why(progress)}`,
        1,
        'E_TIMEOUT',
      );
    }
    await sleep(Math.min(o.pollMs ?? 1000, left));
  }
}

export function describeProgress(p: FederationProgress): string {
  const total = p.federation.spec.rounds;
  return (
    `${p.federation.status}: ${p.released}${total ? `/${total}` : ''} rounds released, ${p.failed} failed` +
    (p.evaluations > 0 ? `, ${p.evaluations} private evaluation${p.evaluations === 1 ? '' : 's'}` : '') +
    (p.latestVersion !== null ? `, model v${p.latestVersion}` : '') +
    why(p)
  );
}

function why(p: FederationProgress): string {
  const reason = p.federation.statusReason;
  return reason ? ` (${reason.message})` : '';
}
