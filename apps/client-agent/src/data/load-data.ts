import { readFileSync } from 'node:fs';
import {
  loadMnist,
  parsePartitionScheme,
  partitionIndices,
  preprocessDataset,
  subset,
  encodedWidth,
  encodeLabel,
  encodeValue,
  TableValueError,
  type Dataset,
  type PreprocessPlan,
} from '@concord/datasets';
import { tableFeatureNames, type FederationDataset } from '@concord/protocol';
import { parse } from 'csv-parse/sync';

/** Data that does not match the federation's schema; the message names the file, row and column. */
export class DataError extends Error {
  readonly code = 'E_DATA';
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

type TableSchema = Extract<FederationDataset, { kind: 'table' }>;

/**
 * Reads a CSV with a header row and checks it against the federation's table schema, with the file, line and
 * column of the first bad value. With `columns` (schema-driven): each column encoded by its public declaration
 * (libs/datasets tabular.ts: bounds, vocabulary, missing tokens); with `featureColumns`: every feature numeric and
 * finite, used as it is. The label must be one of the declared classes (0/1 when the task is binary). Rows keep the
 * file's order.
 */
export function loadCsvDataset(file: string, schema: TableSchema, labelColumn: string): Dataset {
  if (labelColumn !== schema.labelColumn) {
    throw new DataError(
      `--label-column ${labelColumn} does not match the federation's label column ${schema.labelColumn}`,
    );
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DataError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, trim: true, info: true, bom: true });
  } catch (error) {
    throw new DataError(`${file}: not valid CSV: ${(error as Error).message.split('\n')[0]}`);
  }
  if (records.length === 0) throw new DataError(`${file}: no data rows`);
  const header = Object.keys(records[0].record);
  for (const column of [...tableFeatureNames(schema), schema.labelColumn]) {
    if (!header.includes(column)) throw new DataError(`${file}: missing column ${column}`);
  }
  const labelSchema = { ...schema, columns: [] };
  const numeric = (schema.featureColumns ?? []).map((name) => ({ name, type: 'numeric' as const }));
  const width = schema.columns ? encodedWidth({ columns: schema.columns }) : numeric.length;
  const features = new Float32Array(records.length * width);
  const labels = new Float32Array(records.length);
  records.forEach(({ record, info }, row) => {
    try {
      let offset = row * width;
      for (const column of schema.columns ?? []) offset = encodeValue(column, record[column.name], features, offset);
      for (const column of numeric) {
        const raw = record[column.name];
        const value = raw === '' || raw === undefined ? Number.NaN : Number(raw);
        if (!Number.isFinite(value))
          throw new TableValueError(column.name, `expected a finite number, got '${raw ?? ''}'`);
        features[offset++] = value;
      }
      labels[row] = encodeLabel(labelSchema, record[schema.labelColumn]);
    } catch (error) {
      if (!(error instanceof TableValueError)) throw error;
      throw new DataError(`${file}: line ${info.lines}, column ${error.column}: ${error.message}`);
    }
  });
  const classCount = schema.positiveClass === undefined ? schema.classes.length : 2;
  return { features, labels, count: records.length, featureCount: width, classCount };
}

/** `i/n`: this site's shard index and the number of shards (0 <= i < n). */
export function parseShard(text: string): { index: number; of: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = match ? Number(match[1]) : Number.NaN;
  const of = match ? Number(match[2]) : Number.NaN;
  if (!match || of < 1 || index >= of) throw new RangeError(`--shard must be i/n with 0 <= i < n, got '${text}'`);
  return { index, of };
}

/**
 * Shard `index` of `of` of the 8,000 MNIST training digits (seeded stratified split of the `mnist` package, the
 * 2,000 held-out digits never go to a site), partitioned iid, dirichlet:ALPHA or classes:K with the same seed on
 * every site, so the shards of one federation are disjoint.
 */
export function loadMnistShard(options: { index: number; of: number; partition: string; seed?: number }): Dataset {
  const scheme = parsePartitionScheme(options.partition);
  const { train } = loadMnist({ seed: options.seed ?? 0 });
  const parts = partitionIndices(train.labels, { sites: options.of, scheme, seed: options.seed ?? 0 });
  return subset(train, parts[options.index]);
}

/** Applies the federation's data-independent preprocessing (the same on every site and on the server's test set). */
export function preprocess(plan: PreprocessPlan | undefined, dataset: Dataset): Dataset {
  return plan ? preprocessDataset(plan, dataset) : dataset;
}
