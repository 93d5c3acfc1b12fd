/**
 * Worker-thread entry of preprocessOffThread (sim-settings.ts): applies a preprocessing plan to one dataset and
 * sends the result back, its arrays transferred.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { preprocessDataset, type Dataset, type PreprocessPlan } from '@concord/datasets';

const { plan, dataset } = workerData as { plan: PreprocessPlan; dataset: Dataset };
const out = preprocessDataset(plan, dataset);
parentPort!.postMessage(out, [out.features.buffer as ArrayBuffer, out.labels.buffer as ArrayBuffer]);
