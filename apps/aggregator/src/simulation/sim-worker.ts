/** Worker-thread entry of one simulated site (simulate/demo): enrolls, runs rounds, reports progress. */
import { parentPort, workerData } from 'node:worker_threads';
import { runSimSite, SiteEnrollmentError, type SimSiteOptions } from './sim-site.js';

const options = workerData as Omit<SimSiteOptions, 'onEvent' | 'signal'>;
const stop = new AbortController();
parentPort!.on('message', (m: { type?: string }) => {
  if (m?.type === 'stop') stop.abort();
});
runSimSite({
  ...options,
  signal: stop.signal,
  onEvent: (event) => parentPort!.postMessage({ type: 'event', event }),
}).then(
  (result) => parentPort!.postMessage({ type: 'done', result }),
  (error: unknown) => {
    const code = (error as { code?: unknown }).code;
    if (code !== 'E_ABORTED')
      parentPort!.postMessage({
        type: 'error',
        message: String((error as Error)?.message ?? error),
        enrollment: error instanceof SiteEnrollmentError ? { code } : undefined,
      });
    process.exit(0);
  },
);
