/**
 * The vendored tables in a simulation: the rows encoded by the public schema (the spec's table dataset when
 * `--spec` gives one, else the dataset's own: libs/datasets tables.ts) and partitioned among the sites with the
 * same seed on every run: iid, dirichlet:ALPHA on the label, or by-column:NAME (partitionByValues' stated rule).
 */
import {
  encodeTable,
  loadTable,
  parsePartitionScheme,
  partitionIndices,
  type Dataset,
  type TableSchema,
} from '@concord/datasets';
import type { FederationDataset } from '@concord/protocol';

export const SIM_DATASETS = ['mnist', 'adult', 'mammography'] as const;
export type SimDataset = (typeof SIM_DATASETS)[number];

export function splitTable(
  o: { dataset?: SimDataset; sites: number; partition: string; seed: number },
  specDataset: { kind?: string } | undefined,
): { train: Dataset; parts: number[][]; test: Dataset; dataset: FederationDataset } {
  if (o.dataset !== 'adult' && o.dataset !== 'mammography') throw new RangeError(`not a table: ${o.dataset}`);
  const split = loadTable(o.dataset, { seed: o.seed });
  const { columns, labelColumn, classes, positiveClass, classPrior } = split.schema;
  const dataset = (
    specDataset?.kind === 'table'
      ? specDataset
      : { kind: 'table', columns, labelColumn, classes, positiveClass, classPrior }
  ) as Extract<FederationDataset, { kind: 'table' }>;
  if (!dataset.columns) throw new RangeError('simulate: a table spec for a vendored dataset must declare columns');
  const schema = dataset as TableSchema;
  const train = specDataset?.kind === 'table' ? encodeTable(schema, split.trainRows) : split.train;
  const test = specDataset?.kind === 'table' ? encodeTable(schema, split.testRows) : split.test;
  const scheme = parsePartitionScheme(o.partition);
  if (scheme.kind === 'by-column' && !columns.some((c) => c.name === scheme.column && c.type === 'categorical')) {
    throw new RangeError(
      `--partition by-column:${scheme.column}: not a categorical column of ${o.dataset} (${columns
        .filter((c) => c.type === 'categorical')
        .map((c) => c.name)
        .join(', ')})`,
    );
  }
  const parts = partitionIndices(train.labels, {
    sites: o.sites,
    scheme,
    seed: o.seed,
    columnValues: scheme.kind === 'by-column' ? split.trainRows.map((r) => r[scheme.column]) : undefined,
  });
  return { train, parts, test, dataset };
}
