/**
 * Worker-thread entry of the virtual-agent pool (virtual-pool.ts): one thread hosts many sites, each a real agent
 * runtime (runSimSite: enrollment, then runAgent's socket.io transport, AgentRuntime, RoundSession) with its own
 * socket, keys and budget guard. The addon and the training rows are loaded once per thread; a site keeps only its
 * row indices and rebuilds its shard when a round asks for it.
 */
import { setMaxListeners } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import type { AgentEvent, TrainingData } from '@concord/client-agent';
import type { EnrollRequest } from '@concord/protocol';
import { siteShard } from './sim-settings.js';
import { runSimSite } from './sim-site.js';
import type {
  EnrolledMessage,
  EnrollResult,
  StartMessage,
  VirtualWorkerData,
  VirtualWorkerMessage,
} from './virtual-pool.js';

const input = workerData as VirtualWorkerData;
const stop = new AbortController();
// in-process enrollment (VirtualWorkerData.enrollInProcess): the pool's answers, by site index
const enrollments = new Map<number, (result: EnrollResult) => void>();
let startWith!: (m: StartMessage) => void;
/** the aggregator's URL and this thread's sites' tokens, once it is up (virtual-pool.ts `start`) */
const started = new Promise<StartMessage>((resolve) => (startWith = resolve));
parentPort!.on('message', (m: { type?: string } | EnrolledMessage | StartMessage) => {
  if (m?.type === 'stop') stop.abort();
  if (m?.type === 'start') startWith(m as StartMessage);
  if (m?.type === 'enrolled') {
    for (const { index, result } of (m as EnrolledMessage).answers) {
      enrollments.get(index)?.(result);
      enrollments.delete(index);
    }
  }
});
// every site of this thread listens to the one stop signal
setMaxListeners(0, stop.signal);
const post = (m: VirtualWorkerMessage) => parentPort!.postMessage(m);
const train = {
  features: input.features,
  labels: input.labels,
  count: input.labels.length,
  featureCount: input.featureCount,
  classCount: 0,
};

/**
 * Site `k`'s shard: its rows copied out of the shared training rows and preprocessed by the site (siteShard, the
 * same function the thread-per-site runtime uses), the first time a round asks for it; kept after that, so a site
 * that never enters a cohort costs only its row indices.
 */
function shardOf(k: number): () => TrainingData {
  let shard: TrainingData | undefined;
  return () => {
    if (shard) return shard;
    const rows = Array.from(input.rowIndex.subarray(input.offsets[k], input.offsets[k + 1]));
    const { features, labels, count, featureCount } = siteShard(input, train, rows);
    shard = { features, labels, count, featureCount };
    return shard;
  };
}

/**
 * Site `index`'s enrollment handed to the pool (which enrolls the sites' requests in batches in the aggregator's
 * process): resolves to the EnrollResponse JSON, rejects with the refusal's code as POST /api/enroll would answer.
 */
function enrollInProcess(index: number): (request: EnrollRequest) => Promise<unknown> {
  return (request) =>
    new Promise((resolve, reject) => {
      enrollments.set(index, (result) =>
        result.ok
          ? resolve(result.response)
          : reject(new Error(`enrollment of ${request.name} failed: ${result.code} ${result.message}`)),
      );
      post({ type: 'enroll', index, request });
    });
}

/**
 * Start-up is bounded: at most `startConcurrency` sites of this thread connect and authenticate at once, so 500
 * sites starting together do not run their 15 s auth acks out behind each other on a busy core. Enrolling in
 * process is not bounded: every site hands its request over at once and the pool enrolls them in a few large
 * batches (over HTTP, the enrollment is inside the bound, as before).
 */
async function main(): Promise<void> {
  let free = input.startConcurrency;
  const waiting: (() => void)[] = [];
  const acquire = () => (free > 0 ? (free--, Promise.resolve()) : new Promise<void>((r) => waiting.push(r)));
  const release = () => (waiting.length > 0 ? waiting.shift()!() : free++);
  const runs: Promise<void>[] = [];
  for (let k = 0; k < input.sites.length && !stop.signal.aborted; k++) {
    const { index, name, identitySeed, reproducibleSeed } = input.sites[k];
    // a slot is held from acquiring it until the site authenticated (or stopped)
    let slot: 'none' | 'held' | 'released' = 'none';
    const take = async () => {
      await acquire();
      slot = 'held';
    };
    const settleStart = () => {
      if (slot !== 'held') return;
      slot = 'released';
      release();
    };
    const onEvent = (event: AgentEvent) => {
      if (event.type === 'authenticated') settleStart();
      post({ type: 'event', index, event });
    };
    if (!input.enrollInProcess) await take();
    runs.push(
      runSimSite({
        // the site makes its keys now; it enrolls and connects once the aggregator is up
        server: started.then((m) => m.server),
        token: started.then((m) => m.tokens[k]),
        name,
        cap: input.cap,
        accountant: input.accountant,
        dropout: input.dropout,
        data: shardOf(k),
        identitySeed,
        reproducibleSeed,
        onEvent,
        signal: stop.signal,
        ...(input.enrollInProcess ? { enroll: enrollInProcess(index), beforeConnect: take } : {}),
      })
        .then(
          (result) => post({ type: 'done', index, rounds: result.rounds }),
          (error: unknown) => {
            const code = (error as { code?: unknown }).code;
            if (code !== 'E_ABORTED')
              post({ type: 'error', index, message: String((error as Error)?.message ?? error) });
          },
        )
        .finally(settleStart),
    );
  }
  await Promise.all(runs);
}

void main().finally(() => process.exit(0));
