/**
 * `npm run bench:tabular`: the goal table of issue 18. Adult (official train / test) and mammography (stratified
 * 70/30 split, seed 0) from libs/datasets, encoded by their public schemas; each row is a federation with
 * Concord's defaults (the spec is the dataset schema plus the mode and epsilon under test, nothing tuned per
 * dataset), run for several training seeds in the in-process harness (bench/federation/harness.ts: the native
 * kernels, the real calibration and encoders). Printed per row: mean ROC AUC over seeds, its drop against
 * non-private centralized logistic regression on the same split (fitted here), a bootstrap 95% interval of the drop
 * over seeds, mean PR AUC, and the wall time of one run.
 *
 *   npm run bench:tabular [-- --datasets adult,mammography] [--seeds 10] [--rows goal|all] [--set JSON]
 *                         [--only SUBSTRING] [--json]
 *
 * --set merges a JSON object into every spec (e.g. '{"server":{"learningRate":0.5}}'), for side-by-side
 * "what per-dataset tuning would add" rows; without it the plan is whatever libs/fedopt resolves by default.
 */
import { binaryMetrics, createSeededRandom, loadTable, type TableSplit } from '@concord/datasets';
import { initializeTableModel, resolveTrainingPlan } from '@concord/fedopt';
import { predict } from '@concord/native';
import { parseFederationSpec } from '@concord/protocol';
import { runHarness } from '../federation/harness.js';
import { fitLogisticRegression } from './reference.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const datasets = flag('datasets', 'adult,mammography').split(',') as ('adult' | 'mammography')[];
const seeds = Number(flag('seeds', '10'));
const rowsWanted = flag('rows', 'all');
const only = flag('only', '');
const overrides = JSON.parse(flag('set', '{}')) as Record<string, Record<string, unknown>>;
const json = process.argv.includes('--json');
const say = (line: string) => (json ? process.stderr : process.stdout).write(line + '\n');

interface Row {
  dataset: 'adult' | 'mammography';
  sites: number;
  partition: string;
  mode: 'none' | 'local' | 'distributed';
  epsilon?: number;
  /** the goal for the drop (undefined: reported only) */
  goal?: number;
}

const ROWS: Row[] = [
  { dataset: 'adult', sites: 10, partition: 'iid', mode: 'none', goal: 0.005 },
  { dataset: 'adult', sites: 10, partition: 'iid', mode: 'local', epsilon: 1, goal: 0.01 },
  { dataset: 'adult', sites: 10, partition: 'iid', mode: 'distributed', epsilon: 1, goal: 0.005 },
  { dataset: 'adult', sites: 10, partition: 'dirichlet:0.5', mode: 'local', epsilon: 1, goal: 0.01 },
  { dataset: 'adult', sites: 10, partition: 'dirichlet:0.5', mode: 'distributed', epsilon: 1, goal: 0.005 },
  { dataset: 'adult', sites: 10, partition: 'iid', mode: 'local', epsilon: 3 },
  { dataset: 'adult', sites: 10, partition: 'iid', mode: 'distributed', epsilon: 3 },
  { dataset: 'mammography', sites: 10, partition: 'iid', mode: 'none', goal: 0.005 },
  { dataset: 'mammography', sites: 10, partition: 'iid', mode: 'distributed', epsilon: 1, goal: 0.015 },
  { dataset: 'mammography', sites: 10, partition: 'iid', mode: 'local', epsilon: 1, goal: 0.02 },
  { dataset: 'mammography', sites: 20, partition: 'iid', mode: 'local', epsilon: 1, goal: 0.03 },
  { dataset: 'mammography', sites: 10, partition: 'iid', mode: 'local', epsilon: 3 },
  { dataset: 'mammography', sites: 10, partition: 'iid', mode: 'distributed', epsilon: 3 },
];

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Percentile bootstrap (10,000 resamples of the seeds, seeded) of the mean: a 95% interval. */
function bootstrap(xs: number[]): [number, number] {
  const random = createSeededRandom('bench-tabular-bootstrap');
  const means: number[] = [];
  for (let b = 0; b < 10_000; b++) {
    let sum = 0;
    for (let i = 0; i < xs.length; i++) sum += xs[Math.floor(random() * xs.length)];
    means.push(sum / xs.length);
  }
  means.sort((a, b) => a - b);
  return [means[Math.floor(0.025 * means.length)], means[Math.ceil(0.975 * means.length) - 1]];
}

function specFor(split: TableSplit, row: Row): Record<string, unknown> {
  const { columns, labelColumn, classes, positiveClass, classPrior } = split.schema;
  return {
    ...overrides,
    dataset: { kind: 'table', columns, labelColumn, classes, positiveClass, classPrior, ...overrides.dataset },
    cohort: { size: row.sites },
    privacy:
      row.mode === 'none'
        ? { mode: 'none', ...overrides.privacy }
        : { mode: row.mode, epsilon: row.epsilon, delta: 1e-5, ...overrides.privacy },
  };
}

const results: Record<string, unknown>[] = [];
for (const name of datasets) {
  const split = loadTable(name, { seed: 0 });
  const referenceWeights = fitLogisticRegression(split.train);
  const model = { inputSize: split.train.featureCount, layers: [{ units: 1, activation: 'none' as const }] };
  const refLogits = await predict(
    { ...model, loss: 'sigmoid-binary-cross-entropy' },
    referenceWeights,
    split.test.features,
  );
  const reference = binaryMetrics(refLogits, split.test.labels);
  say(
    `${name}: ${split.train.count} train / ${split.test.count} test rows, ${split.train.featureCount} features; ` +
      `centralized non-private LR: ROC AUC ${reference.rocAuc.toFixed(4)}, PR AUC ${reference.prAuc.toFixed(4)}`,
  );
  say(
    '| sites | partition | mode | epsilon | ROC AUC (mean) | drop | drop 95% CI | goal | PR AUC | z | q | t, c | s/run |',
  );
  say('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of ROWS.filter((r) => r.dataset === name && (rowsWanted === 'all' || r.goal !== undefined))) {
    const label = `${row.sites} ${row.partition} ${row.mode} ${row.epsilon ?? 'none'}`;
    if (only && !label.includes(only)) continue;
    const spec = parseFederationSpec(specFor(split, row));
    const plan = resolveTrainingPlan(spec, { cohortSize: row.sites });
    const columnValues = (column: string) => split.trainRows.map((r) => r[column]);
    const aucs: number[] = [];
    const prs: number[] = [];
    const seconds: number[] = [];
    for (let seed = 0; seed < seeds; seed++) {
      const run = await runHarness(spec, {
        sites: row.sites,
        partition: row.partition,
        seed,
        splitSeed: 0,
        data: { train: split.train, test: split.test, columnValues },
        plan,
        initialize: (weights) => initializeTableModel(spec.dataset, plan.model, weights),
      });
      const logits = await predict(plan.model, run.weights, split.test.features);
      const m = binaryMetrics(logits, split.test.labels);
      aucs.push(m.rocAuc);
      prs.push(m.prAuc);
      seconds.push(run.seconds);
    }
    const drops = aucs.map((a) => reference.rocAuc - a);
    const [lo, hi] = bootstrap(drops);
    const p = plan.privacy;
    const z = p.mode === 'none' ? '-' : p.noiseMultiplier.toFixed(3);
    const q = p.mode === 'none' ? '-' : String(p.sampleRate);
    // t: SecAgg+ threshold; c: colluders tolerated; noise is sized so that t - c honest shares carry all of it
    const t =
      p.mode === 'distributed'
        ? `${plan.secureAggregation.threshold}, ${plan.secureAggregation.threshold - p.minNoisyClients}`
        : '-';
    const drop = mean(drops);
    const met = row.goal === undefined ? '' : `${drop <= row.goal ? 'met' : 'MISSED'} (<= ${row.goal})`;
    say(
      `| ${row.sites} | ${row.partition} | ${row.mode} | ${row.epsilon ?? '-'} | ${mean(aucs).toFixed(4)} | ${drop.toFixed(4)} | [${lo.toFixed(4)}, ${hi.toFixed(4)}] | ${met} | ${mean(prs).toFixed(4)} | ${z} | ${q} | ${t} | ${mean(seconds).toFixed(1)} |`,
    );
    results.push({ dataset: name, ...row, reference: reference.rocAuc, aucs, prs, drop, ci: [lo, hi], seconds });
  }
}
if (json) process.stdout.write(JSON.stringify(results) + '\n');
