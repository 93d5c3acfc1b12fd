/**
 * The two real tables vendored in libs/datasets/data (gzip, provenance and licence in data/README.md), with their
 * public schemas. Every bound, vocabulary and prior below is read from the datasets' documentation (adult.names,
 * mammography.names, the census topcodes), never from the rows, and examples/adult.yaml and
 * examples/mammography.yaml declare the same (test/tables.test.ts checks).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { type Dataset } from './dataset.js';
import { createSeededRandom, shuffleInPlace } from './seeded-random.js';
import { encodeTable, type TableColumn, type TableSchema } from './tabular.js';

export interface PublicTableSchema extends TableSchema {
  /** public prior of the positive class (documentation), for the output bias at initialisation */
  classPrior?: number;
}

const categorical = (name: string, values: string[]): TableColumn => ({
  name,
  type: 'categorical',
  values,
  missing: ['?'],
});

/**
 * UCI Adult (adult.names). Bounds: age 17-90 (the survey's population and topcode), education-num 1-16 (the 16
 * education levels), hours-per-week 1-99 (topcode), capital-gain 0-99,999 and capital-loss 0-4,356 (the census
 * topcodes), fnlwgt 0-1.5M (census weights). The three money/weight columns are heavy-tailed: log1p. `?` is missing
 * in any categorical column (adult.names). Prior: P(>50K) = 23.93% (adult.names).
 */
export const ADULT_SCHEMA: PublicTableSchema = Object.freeze({
  columns: [
    { name: 'age', type: 'numeric', min: 17, max: 90 },
    categorical('workclass', [
      'Private',
      'Self-emp-not-inc',
      'Self-emp-inc',
      'Federal-gov',
      'Local-gov',
      'State-gov',
      'Without-pay',
      'Never-worked',
    ]),
    { name: 'fnlwgt', type: 'numeric', min: 0, max: 1_500_000, scale: 'log1p' },
    categorical('education', [
      'Bachelors',
      'Some-college',
      '11th',
      'HS-grad',
      'Prof-school',
      'Assoc-acdm',
      'Assoc-voc',
      '9th',
      '7th-8th',
      '12th',
      'Masters',
      '1st-4th',
      '10th',
      'Doctorate',
      '5th-6th',
      'Preschool',
    ]),
    { name: 'education-num', type: 'numeric', min: 1, max: 16 },
    categorical('marital-status', [
      'Married-civ-spouse',
      'Divorced',
      'Never-married',
      'Separated',
      'Widowed',
      'Married-spouse-absent',
      'Married-AF-spouse',
    ]),
    categorical('occupation', [
      'Tech-support',
      'Craft-repair',
      'Other-service',
      'Sales',
      'Exec-managerial',
      'Prof-specialty',
      'Handlers-cleaners',
      'Machine-op-inspct',
      'Adm-clerical',
      'Farming-fishing',
      'Transport-moving',
      'Priv-house-serv',
      'Protective-serv',
      'Armed-Forces',
    ]),
    categorical('relationship', ['Wife', 'Own-child', 'Husband', 'Not-in-family', 'Other-relative', 'Unmarried']),
    categorical('race', ['White', 'Asian-Pac-Islander', 'Amer-Indian-Eskimo', 'Other', 'Black']),
    categorical('sex', ['Female', 'Male']),
    { name: 'capital-gain', type: 'numeric', min: 0, max: 99_999, scale: 'log1p' },
    { name: 'capital-loss', type: 'numeric', min: 0, max: 4_356, scale: 'log1p' },
    { name: 'hours-per-week', type: 'numeric', min: 1, max: 99 },
    categorical('native-country', [
      'United-States',
      'Cambodia',
      'England',
      'Puerto-Rico',
      'Canada',
      'Germany',
      'Outlying-US(Guam-USVI-etc)',
      'India',
      'Japan',
      'Greece',
      'South',
      'China',
      'Cuba',
      'Iran',
      'Honduras',
      'Philippines',
      'Italy',
      'Poland',
      'Jamaica',
      'Vietnam',
      'Mexico',
      'Portugal',
      'Ireland',
      'France',
      'Dominican-Republic',
      'Laos',
      'Ecuador',
      'Taiwan',
      'Haiti',
      'Columbia',
      'Hungary',
      'Guatemala',
      'Nicaragua',
      'Scotland',
      'Thailand',
      'Yugoslavia',
      'El-Salvador',
      'Trinadad&Tobago',
      'Peru',
      'Hong',
      'Holand-Netherlands',
    ]),
  ],
  labelColumn: 'income',
  classes: ['<=50K', '>50K'],
  positiveClass: '>50K',
  classPrior: 0.2393,
}) as PublicTableSchema;

/**
 * Mammography (mammography.names): 6 features standardised upstream, so fixed bounds [-5, 5] (five standard
 * deviations) are declared rather than read off the data. Prior: 260 of 11,183 (2.3%, mammography.names).
 */
export const MAMMOGRAPHY_SCHEMA: PublicTableSchema = Object.freeze({
  columns: Array.from({ length: 6 }, (_, i) => ({ name: `x${i + 1}`, type: 'numeric' as const, min: -5, max: 5 })),
  labelColumn: 'class',
  classes: ['-1', '1'],
  positiveClass: '1',
  classPrior: 260 / 11_183,
}) as PublicTableSchema;

export const ADULT_COLUMNS: readonly string[] = [...ADULT_SCHEMA.columns.map((c) => c.name), 'income'];
export const MAMMOGRAPHY_COLUMNS: readonly string[] = [...MAMMOGRAPHY_SCHEMA.columns.map((c) => c.name), 'class'];

/** Raw rows of a vendored file, as column name -> text (labels normalised: Adult test's `.`, quotes removed). */
export function readVendoredRows(file: 'adult-train' | 'adult-test' | 'mammography'): Record<string, string>[] {
  if (file !== 'adult-train' && file !== 'adult-test' && file !== 'mammography')
    throw new RangeError(`unknown vendored table '${String(file)}'`);
  const text = gunzipSync(readFileSync(new URL(`../data/${file}.csv.gz`, import.meta.url))).toString('utf8');
  const columns = file === 'mammography' ? MAMMOGRAPHY_COLUMNS : ADULT_COLUMNS;
  const rows = parse(text, { columns: [...columns], skip_empty_lines: true, trim: true }) as Record<string, string>[];
  for (const row of rows) {
    if (file === 'adult-test') row.income = row.income.replace(/\.$/, '');
    if (file === 'mammography') row.class = row.class.replace(/^'(.*)'$/, '$1');
  }
  return rows;
}

export interface TableSplit {
  train: Dataset;
  test: Dataset;
  /** raw train rows (for by-column partitions and CSV shards) in the same order as `train` */
  trainRows: Record<string, string>[];
  /** raw test rows in the same order as `test` (to encode them under another schema) */
  testRows: Record<string, string>[];
  schema: PublicTableSchema;
}

/** Adult: the official train (32,561) and test (16,281) files, encoded with ADULT_SCHEMA. */
export function loadAdult(): TableSplit {
  const trainRows = readVendoredRows('adult-train');
  const testRows = readVendoredRows('adult-test');
  return {
    train: encodeTable(ADULT_SCHEMA, trainRows),
    test: encodeTable(ADULT_SCHEMA, testRows),
    trainRows,
    testRows,
    schema: ADULT_SCHEMA,
  };
}

/** Mammography: a stratified 70/30 split by `seed` (default 0; 78 of the 260 positives in the test part). */
export function loadMammography(options: { seed?: number } = {}): TableSplit {
  const rows = readVendoredRows('mammography');
  const random = createSeededRandom(`mammography-split:${options.seed ?? 0}`);
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  for (const label of MAMMOGRAPHY_SCHEMA.classes) {
    const members = shuffleInPlace(
      rows.flatMap((r, i) => (r.class === label ? [i] : [])),
      random,
    );
    const testCount = Math.round(members.length * 0.3);
    testIdx.push(...members.slice(0, testCount));
    trainIdx.push(...members.slice(testCount));
  }
  trainIdx.sort((a, b) => a - b);
  testIdx.sort((a, b) => a - b);
  const trainRows = trainIdx.map((i) => rows[i]);
  const testRows = testIdx.map((i) => rows[i]);
  return {
    train: encodeTable(MAMMOGRAPHY_SCHEMA, trainRows),
    test: encodeTable(MAMMOGRAPHY_SCHEMA, testRows),
    trainRows,
    testRows,
    schema: MAMMOGRAPHY_SCHEMA,
  };
}

/** The vendored table by name. */
export function loadTable(name: 'adult' | 'mammography', options: { seed?: number } = {}): TableSplit {
  if (name === 'adult') return loadAdult();
  if (name === 'mammography') return loadMammography(options);
  throw new RangeError(`unknown table '${String(name)}': adult or mammography`);
}
