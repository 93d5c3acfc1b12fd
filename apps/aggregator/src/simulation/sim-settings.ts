/**
 * From a simulation's options to what it runs: the federation's settings (the options over a `--spec` file, through
 * the same settingsFromSpec as the REST API) and each site's shard and the server's reference set, preprocessed.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  loadMnist,
  parsePartitionScheme,
  partitionIndices,
  preprocessDataset,
  subset,
  type Dataset,
  type PreprocessPlan,
} from '@concord/datasets';
import { settingsFromSpec } from '../federation/settings-from-spec.js';
import type { FederationSettings } from '../federation/settings.js';
import type { SimulationOptions } from './sim-options.js';
import { splitTable } from './sim-table.js';
import { sizeWordsFromData } from '../federation/sized-words.js';

/** MNIST's training digits split over `sites` by `partition` (iid, dirichlet:alpha, ...); its test digits kept whole. */
export function splitMnist(sites: number, partition: string, seed: number): { shards: Dataset[]; test: Dataset } {
  const { train, parts, test } = partitionMnist(sites, partition, seed);
  return { shards: parts.map((rows) => subset(train, rows)), test };
}

/** The same split as row indices into the training digits (site i holds `train` rows `parts[i]`). */
export function partitionMnist(
  sites: number,
  partition: string,
  seed: number,
): { train: Dataset; parts: number[][]; test: Dataset } {
  const { train, test } = loadMnist({ seed });
  const parts = partitionIndices(train.labels, { sites, scheme: parsePartitionScheme(partition), seed });
  return { train, parts, test };
}

/**
 * The settings and the data of a simulation: the training rows as loaded, each site's shard as row indices (site i
 * holds `subset(train, parts[i])` and preprocesses it itself: siteShard), and the server's test set, preprocessed.
 */
export function simulationInputs(o: SimulationOptions): {
  settings: FederationSettings;
  train: Dataset;
  parts: number[][];
  test: Dataset;
} {
  const { heldOut, ...inputs } = simulationData(o);
  return { ...inputs, test: preprocessDataset(inputs.settings.preprocess, heldOut) };
}

/**
 * simulationInputs with the server's test set as loaded (`heldOut`), to be preprocessed by the caller
 * (`preprocessDataset(settings.preprocess, heldOut)`): simulate does it on another thread while the aggregator
 * starts, since it is needed only for the first evaluation.
 */
export function simulationData(o: SimulationOptions): {
  settings: FederationSettings;
  train: Dataset;
  parts: number[][];
  heldOut: Dataset;
} {
  const extra = (o.spec ?? {}) as {
    dataset?: { kind?: string };
    cohort?: object;
    privacy?: { noiseMultiplier?: number };
    secureAggregation?: object;
  };
  const cohort = Math.min(o.cohort ?? o.sites, o.sites);
  const table = o.dataset && o.dataset !== 'mnist' ? splitTable(o, extra.dataset) : undefined;
  const { settings: resolved } = settingsFromSpec(
    {
      name: 'simulation',
      ...extra,
      dataset: table?.dataset ?? { kind: 'mnist' },
      // a table's logistic regression (121 inputs for Adult) is too narrow for the 256-bit owner watermark
      ...(table && !('watermark' in extra) ? { watermark: { enabled: false } } : {}),
      rounds: o.rounds,
      // every simulated site is in the cohort; a spec may start rounds with fewer connected (a site refused at
      // enrollment never connects), never with more than there are
      // `--cohort`: a round draws that many of the connected sites (virtual agents: 100 of 1,000)
      cohort: {
        ...extra.cohort,
        size: cohort,
        minSites: Math.min((extra.cohort as { minSites?: number } | undefined)?.minSites ?? cohort, cohort),
      },
      privacy:
        o.mode === 'none'
          ? { mode: 'none' }
          : {
              ...extra.privacy,
              mode: o.mode,
              // an explicit noise multiplier in the spec wins over a target epsilon
              ...(extra.privacy?.noiseMultiplier === undefined ? { epsilon: o.epsilon } : {}),
              delta: o.delta,
              accountant: o.accountant,
            },
      secureAggregation: {
        ...extra.secureAggregation,
        ...(o.secaggNeighbours === undefined ? {} : { neighbours: o.secaggNeighbours }),
      },
    },
    { cohortSize: cohort, timeouts: { planMs: 60_000, stageMs: 60_000, trainingMs: 300_000 } },
  );
  const split = table ?? partitionMnist(o.sites, o.partition, o.seed);
  // issue 20: the words sized from the records the sites hold (a narrow SecAgg+ modulus), unless the spec sets them
  // (an `encoding.recordsPerSite` in the spec was already applied by settingsFromSpec, as `concord serve` does)
  const specEncoding = (extra as { encoding?: { recordsPerSite?: number } }).encoding;
  const sized =
    specEncoding?.recordsPerSite === undefined
      ? sizeWordsFromData(resolved, split.train.count / o.sites, extra as { encoding?: { clip?: unknown } })
      : resolved;
  const seeded = o.reproducible
    ? { ...sized, watermark: false, initSeed: simulationSeed(o.seed, 'init weights').toString('hex') }
    : sized;
  const settings = o.settings ? o.settings(seeded) : seeded;
  // the server applies the data-independent preprocessing to its held-out rows (the sites: siteShard)
  return { settings, train: split.train, parts: split.parts, heldOut: split.test };
}

/**
 * Site `rows`' shard of `train`, preprocessed as the site does it: data-independent (fixed filters, no statistics
 * of the data, each row on its own), so a site needs nothing but its own records. Tables were encoded already.
 */
export function siteShard(settings: Pick<FederationSettings, 'preprocess'>, train: Dataset, rows: readonly number[]) {
  return preprocessDataset(settings.preprocess, subset(train, rows));
}

/** `--reproducible`: 32 bytes for one purpose of a simulation, from its --seed (SHA-256 of a labelled string). */
export function simulationSeed(seed: number, purpose: string): Buffer {
  return createHash('sha256').update(`concord/simulate/${seed}/${purpose}`).digest();
}

/**
 * preprocessDataset(plan, dataset) on a worker thread (the scattering transform costs ~1 ms a digit: 2,000 test
 * digits are seconds the aggregator's thread would spend before its first site otherwise). Same function, same
 * result.
 */
export function preprocessOffThread(plan: PreprocessPlan, dataset: Dataset): Promise<Dataset> {
  const entry = new URL('./preprocess-worker.js', import.meta.url);
  // run from the TypeScript sources (vitest, tsx) there is no compiled worker entry: the same function, in-thread
  if (!existsSync(fileURLToPath(entry))) return Promise.resolve().then(() => preprocessDataset(plan, dataset));
  const worker = new Worker(entry, { workerData: { plan, dataset } });
  return new Promise<Dataset>((resolve, reject) => {
    worker.once('message', (out: Dataset) => resolve(out));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`preprocessing thread exited (${code}) without a result`)));
  }).finally(() => void worker.terminate());
}
