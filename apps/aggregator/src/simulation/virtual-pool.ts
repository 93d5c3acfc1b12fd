/**
 * Virtual agents (issue 20): every simulated site runs the real agent runtime over its own real socket.io
 * connection, but the sites share a pool of worker threads sized to the cores instead of one thread each. Each
 * thread loads the addon once and sees the training rows once (a SharedArrayBuffer); a site's state is its keys,
 * its in-memory budget ledger and its shard's row indices (preprocessed by the site, on the pool's threads, the
 * first time a round needs it: the scattering transform costs ~1 ms a digit, which the aggregator's thread would
 * otherwise pay for all 8,000 before the first round). 1,000 sites then start in seconds and fit in a few
 * hundred MB, where a thread per site costs ~1 s and ~40 MB each.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { AgentEvent } from '@concord/client-agent';
import type { Dataset, PreprocessPlan } from '@concord/datasets';
import type { EnrollRequest } from '@concord/protocol';

export interface VirtualSite {
  name: string;
  /** the site's rows of `train` */
  rows: readonly number[];
  /** the site's Ed25519 seed (simulate makes them to recompute the validation splits; default: random) */
  identitySeed?: Uint8Array;
  /** `simulate --reproducible` only (sim-site.ts) */
  reproducibleSeed?: Uint8Array;
}

/** What one pool thread receives (virtual-worker.ts). */
export interface VirtualWorkerData {
  cap: { epsilon: number; delta: number };
  accountant: 'rdp' | 'prv';
  dropout: number;
  /** the training rows as loaded, shared by every thread (SharedArrayBuffer-backed) */
  features: Float32Array;
  labels: Float32Array;
  featureCount: number;
  /** the federation's data-independent preprocessing, which each site applies to its own rows */
  preprocess: PreprocessPlan;
  /** this thread's sites: site k holds rows rowIndex[offsets[k] .. offsets[k+1]) */
  sites: { index: number; name: string; identitySeed?: Uint8Array; reproducibleSeed?: Uint8Array }[];
  rowIndex: Int32Array;
  offsets: Int32Array;
  startConcurrency: number;
  /** sites hand their enrollment request to the pool (VirtualAgentsOptions.enroll) instead of POST /api/enroll */
  enrollInProcess: boolean;
}

export type VirtualWorkerMessage =
  | { type: 'event'; index: number; event: AgentEvent }
  | { type: 'done'; index: number; rounds: number }
  | { type: 'error'; index: number; message: string }
  | { type: 'enroll'; index: number; request: EnrollRequest };

/** Pool -> thread, once the aggregator is up: its URL and the one-time tokens of the thread's sites, in order. */
export interface StartMessage {
  type: 'start';
  server: string;
  tokens: string[];
}

/** An in-process enrollment's answer: the EnrollResponse JSON, or the coded refusal POST /api/enroll would send. */
export type EnrollResult = { ok: true; response: unknown } | { ok: false; code: string; message: string };

/** Pool -> thread: the answers to enrollment requests of the thread's sites (one message per thread and batch). */
export interface EnrolledMessage {
  type: 'enrolled';
  answers: { index: number; result: EnrollResult }[];
}

export interface VirtualAgentsOptions {
  /**
   * The aggregator's URL and the sites' one-time enrollment tokens (in `sites` order), once it is up: the threads
   * start before it (they load the addon, the sites make their keys), then the sites enroll and connect. A
   * rejection stops the threads (their sites count as failed).
   */
  start: Promise<{ server: string; tokens: readonly string[] }>;
  sites: readonly VirtualSite[];
  /** the training rows as loaded (not preprocessed) */
  train: Dataset;
  preprocess: PreprocessPlan;
  cap: { epsilon: number; delta: number };
  accountant: 'rdp' | 'prv';
  dropout: number;
  /** pool size; default os.availableParallelism() (never more threads than sites) */
  threads?: number;
  onSiteEvent?: (site: string, event: AgentEvent) => void;
  /**
   * Enrolls a batch of the sites' own requests (each made by the agent code with its own keys and token) in the
   * simulation's process, answering each as POST /api/enroll would (simulate: EnrollmentService.enrollMany, one
   * transaction per batch). Without it the sites enroll over HTTP.
   */
  enroll?: (requests: readonly EnrollRequest[]) => Promise<EnrollResult[]>;
}

export interface VirtualAgents {
  threads: number;
  /**
   * Resolves once every site authenticated or gave up (enrollment refused, stopped): the rounds then start with all
   * of them connected, as budget-aware cohort selection expects. Counts of each.
   */
  ready: Promise<{ authenticated: number; failed: number }>;
  /** errors the sites reported, by site name (enrollment failures, an agent that stopped) */
  errors: Map<string, string>;
  stop(): Promise<void>;
}

/** Sites of a thread connecting and authenticating at once at start-up (see virtual-worker.ts). */
const START_CONCURRENCY = 64;

/** Most requests the pool hands to `enroll` at once. */
const ENROLL_BATCH = 256;

/**
 * Gathers the threads' enrollment requests and hands them to `enroll` in batches: whatever arrived while the
 * previous batch ran (at most ENROLL_BATCH), so a batch's size follows the sites' start-up rate.
 */
function enrollmentBatcher(
  enroll: NonNullable<VirtualAgentsOptions['enroll']>,
): (request: EnrollRequest, worker: Worker, index: number) => void {
  const queue: { request: EnrollRequest; worker: Worker; index: number }[] = [];
  let running = false;
  const drain = async () => {
    while (queue.length > 0) {
      const batch = queue.splice(0, ENROLL_BATCH);
      let results: EnrollResult[];
      try {
        results = await enroll(batch.map((b) => b.request));
      } catch (error) {
        const message = `enrollment failed: ${(error as Error)?.message ?? String(error)}`;
        results = batch.map(() => ({ ok: false, code: 'E_INTERNAL', message }));
      }
      // one message per thread
      const answers = new Map<Worker, EnrolledMessage['answers']>();
      batch.forEach((b, i) => {
        if (!answers.has(b.worker)) answers.set(b.worker, []);
        answers.get(b.worker)!.push({ index: b.index, result: results[i] });
      });
      for (const [worker, list] of answers) worker.postMessage({ type: 'enrolled', answers: list } as EnrolledMessage);
    }
    running = false;
  };
  return (request, worker, index) => {
    queue.push({ request, worker, index });
    if (running) return;
    running = true;
    // the requests of this turn of the event loop join the first batch
    setImmediate(() => void drain());
  };
}

function shared(values: Float32Array): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(values.byteLength));
  out.set(values);
  return out;
}

export function startVirtualAgents(o: VirtualAgentsOptions): VirtualAgents {
  const threads = Math.max(1, Math.min(o.threads ?? availableParallelism(), o.sites.length));
  const features = shared(o.train.features);
  const labels = shared(o.train.labels);
  const pending = new Set(o.sites.map((_, i) => i));
  const errors = new Map<string, string>();
  let authenticated = 0;
  let markReady!: (v: { authenticated: number; failed: number }) => void;
  const ready = new Promise<{ authenticated: number; failed: number }>((r) => (markReady = r));
  const settle = (index: number, ok: boolean) => {
    if (!pending.delete(index)) return;
    if (ok) authenticated++;
    if (pending.size === 0) markReady({ authenticated, failed: o.sites.length - authenticated });
  };
  if (o.sites.length === 0) markReady({ authenticated: 0, failed: 0 });

  const enroll = o.enroll && enrollmentBatcher(o.enroll);
  const workers: Worker[] = [];
  for (let t = 0; t < threads; t++) {
    // round-robin: each thread gets every threads-th site, so a thread's sites are spread over the roster
    const mine = o.sites.map((s, index) => ({ ...s, index })).filter((_, index) => index % threads === t);
    const offsets = new Int32Array(mine.length + 1);
    mine.forEach((s, k) => (offsets[k + 1] = offsets[k] + s.rows.length));
    const rowIndex = new Int32Array(offsets[mine.length]);
    mine.forEach((s, k) => rowIndex.set(s.rows, offsets[k]));
    const data: VirtualWorkerData = {
      cap: o.cap,
      accountant: o.accountant,
      dropout: o.dropout,
      features,
      labels,
      featureCount: o.train.featureCount,
      preprocess: o.preprocess,
      sites: mine.map(({ index, name, identitySeed, reproducibleSeed }) => ({
        index,
        name,
        identitySeed,
        reproducibleSeed,
      })),
      rowIndex,
      offsets,
      startConcurrency: START_CONCURRENCY,
      enrollInProcess: enroll !== undefined,
    };
    const worker = new Worker(new URL('./virtual-worker.js', import.meta.url), { workerData: data });
    worker.on('message', (m: VirtualWorkerMessage) => {
      const name = o.sites[m.index]?.name;
      if (name === undefined) return;
      if (m.type === 'enroll') {
        if (!enroll) return;
        enroll(m.request, worker, m.index);
      } else if (m.type === 'event') {
        if (m.event.type === 'authenticated') settle(m.index, true);
        o.onSiteEvent?.(name, m.event);
      } else {
        if (m.type === 'error') errors.set(name, m.message);
        settle(m.index, false);
      }
    });
    // a thread that dies takes its sites with it: they will not connect
    worker.on('error', (error) => {
      for (const s of mine) {
        errors.set(s.name, `pool thread failed: ${error.message}`);
        settle(s.index, false);
      }
    });
    worker.on('exit', () => mine.forEach((s) => settle(s.index, false)));
    workers.push(worker);
  }
  const stop = async () => {
    for (const w of workers) w.postMessage({ type: 'stop' });
    await Promise.all(workers.map((w) => w.terminate()));
  };
  o.start.then(
    ({ server, tokens }) =>
      workers.forEach((worker, t) => {
        const message: StartMessage = {
          type: 'start',
          server,
          tokens: o.sites.map((_, index) => tokens[index]).filter((_, index) => index % threads === t),
        };
        worker.postMessage(message);
      }),
    () => void stop(),
  );
  return {
    threads,
    ready,
    errors,
    async stop() {
      for (const w of workers) w.postMessage({ type: 'stop' });
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
