/**
 * Public, schema-driven preprocessing of tables: every constant (bounds, vocabularies, missing-value tokens, the
 * positive class) comes from the federation spec, never from the data, so each site applies the same map to its
 * own rows at no privacy cost and the server applies it to any reference set (Tramer & Boneh 2021, Section 3: fixed
 * features; the same argument as the image preprocessing in preprocess.ts). Fitting a scaler or a vocabulary on a
 * site's rows would leak them through the model without being charged.
 *
 * Encoding of one row, column by column in schema order:
 * - numeric: the value clipped to [min, max], then `linear` (x - min) / (max - min) or `log1p`
 *   log1p(x - min) / log1p(max - min), both in [0, 1], then mapped to [-1, 1] (2u - 1: the middle of the public range
 *   is 0, so a column's weight is not confounded with the bias, which matters when clipped gradients are summed);
 *   when the column declares missing tokens, one more feature, the missing indicator (1 when missing, and the value
 *   itself is then 0, the middle of the range).
 * - categorical: one-hot over the declared values, then an "other" slot for any value not declared, then (when
 *   the column declares missing tokens) a "missing" slot: missing is its own category.
 * The label: 1 for the positive class, 0 for the other declared classes (binary tasks); else the class index.
 */
import { type Dataset } from './dataset.js';

export interface NumericColumn {
  name: string;
  type: 'numeric';
  /** public bounds: values are clipped to [min, max] */
  min: number;
  max: number;
  /** `linear` (default) or `log1p` (heavy-tailed, non-negative after subtracting min) */
  scale?: 'linear' | 'log1p';
  /** tokens that mean "missing" (e.g. `?`, the empty string); each adds an indicator feature */
  missing?: string[];
}

export interface CategoricalColumn {
  name: string;
  type: 'categorical';
  /** the declared vocabulary; any other value goes to the "other" slot */
  values: string[];
  /** tokens that mean "missing"; missing becomes its own category */
  missing?: string[];
}

export type TableColumn = NumericColumn | CategoricalColumn;

export interface TableSchema {
  columns: readonly TableColumn[];
  labelColumn: string;
  /** label values as they appear in the label column */
  classes: readonly string[];
  /** binary tasks: the class encoded as 1 (all other declared classes are 0) */
  positiveClass?: string;
}

/** A value that the schema refuses; `column` names where, the caller adds the file and line. */
export class TableValueError extends Error {
  readonly code = 'E_DATA';
  readonly column: string;
  constructor(column: string, message: string) {
    super(message);
    this.name = 'TableValueError';
    this.column = column;
  }
}

function requireColumn(column: unknown, i: number): TableColumn {
  if (typeof column !== 'object' || column === null) throw new TypeError(`columns[${i}] must be an object`);
  const c = column as TableColumn;
  if (typeof c.name !== 'string' || c.name === '') throw new TypeError(`columns[${i}].name must be a string`);
  if (c.missing !== undefined && (!Array.isArray(c.missing) || c.missing.some((t) => typeof t !== 'string')))
    throw new TypeError(`columns[${i}].missing must be an array of strings`);
  if (c.type === 'numeric') {
    if (typeof c.min !== 'number' || typeof c.max !== 'number')
      throw new TypeError(`columns[${i}] min and max must be numbers`);
    if (!Number.isFinite(c.min) || !Number.isFinite(c.max) || !(c.min < c.max))
      throw new RangeError(`columns[${i}] (${c.name}): bounds must be finite with min < max`);
    if (c.scale !== undefined && c.scale !== 'linear' && c.scale !== 'log1p')
      throw new RangeError(`columns[${i}] (${c.name}): scale must be 'linear' or 'log1p'`);
  } else if (c.type === 'categorical') {
    if (!Array.isArray(c.values) || c.values.some((v) => typeof v !== 'string'))
      throw new TypeError(`columns[${i}].values must be an array of strings`);
    if (new Set(c.values).size !== c.values.length)
      throw new RangeError(`columns[${i}] (${c.name}): values must be distinct`);
    if (c.missing?.some((t) => c.values.includes(t)))
      throw new RangeError(`columns[${i}] (${c.name}): a missing token is also a declared value`);
  } else throw new RangeError(`columns[${i}].type must be 'numeric' or 'categorical'`);
  return c;
}

/** Checks a schema's shape; returns it. TypeError / RangeError naming the first problem. */
export function validateTableSchema(schema: TableSchema): TableSchema {
  if (typeof schema !== 'object' || schema === null) throw new TypeError('schema must be an object');
  if (!Array.isArray(schema.columns) || schema.columns.length === 0)
    throw new TypeError('schema.columns must be a non-empty array');
  schema.columns.forEach(requireColumn);
  const names = schema.columns.map((c) => c.name);
  if (new Set(names).size !== names.length) throw new RangeError('schema.columns: names must be distinct');
  if (typeof schema.labelColumn !== 'string') throw new TypeError('schema.labelColumn must be a string');
  if (names.includes(schema.labelColumn)) throw new RangeError('schema.labelColumn must not be a feature column');
  if (!Array.isArray(schema.classes) || schema.classes.length < 2)
    throw new RangeError('schema.classes must list at least 2 classes');
  if (schema.positiveClass !== undefined && !schema.classes.includes(schema.positiveClass))
    throw new RangeError(`schema.positiveClass '${schema.positiveClass}' is not one of the classes`);
  return schema;
}

/** Features one column encodes to. */
export function columnWidth(column: TableColumn): number {
  const missing = column.missing?.length ? 1 : 0;
  return column.type === 'numeric' ? 1 + missing : column.values.length + 1 + missing;
}

/** Features one row encodes to under `schema` (the model's inputSize with no further preprocessing). */
export function encodedWidth(schema: Pick<TableSchema, 'columns'>): number {
  if (typeof schema !== 'object' || schema === null || !Array.isArray(schema.columns))
    throw new TypeError('schema must have a columns array');
  return schema.columns.reduce((sum, c, i) => sum + columnWidth(requireColumn(c, i)), 0);
}

/** Human-readable names of the encoded features, in order (`age`, `age:missing`, `sex=Male`, `sex:other`...). */
export function encodedFeatureNames(schema: Pick<TableSchema, 'columns'>): string[] {
  const names: string[] = [];
  for (const c of schema.columns) {
    if (c.type === 'numeric') names.push(c.name);
    else names.push(...c.values.map((v) => `${c.name}=${v}`), `${c.name}:other`);
    if (c.missing?.length) names.push(`${c.name}:missing`);
  }
  return names;
}

/**
 * Writes the encoding of one value of `column` at `out[offset...]` (the slots must be zero); returns the next
 * offset. Throws TableValueError for a numeric value that is neither a finite number nor a declared missing token.
 */
export function encodeValue(column: TableColumn, raw: string | undefined, out: Float32Array, offset: number): number {
  const text = raw ?? '';
  const isMissing = column.missing?.includes(text) ?? false;
  if (column.type === 'numeric') {
    const hasIndicator = column.missing?.length ? 1 : 0;
    if (isMissing) {
      out[offset + 1] = 1;
      return offset + 2;
    }
    const value = text.trim() === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(value)) {
      throw new TableValueError(
        column.name,
        `expected a finite number${column.missing?.length ? ` or a missing token (${column.missing.map((t) => `'${t}'`).join(', ')})` : ''}, got '${text}'`,
      );
    }
    const x = Math.min(column.max, Math.max(column.min, value)) - column.min;
    const range = column.max - column.min;
    const unit = column.scale === 'log1p' ? Math.log1p(x) / Math.log1p(range) : x / range;
    out[offset] = 2 * unit - 1;
    return offset + 1 + hasIndicator;
  }
  const k = column.values.length;
  if (isMissing) out[offset + k + 1] = 1;
  else {
    const index = column.values.indexOf(text);
    out[offset + (index < 0 ? k : index)] = 1;
  }
  return offset + columnWidth(column);
}

/**
 * The label of one row: 0/1 for a binary schema (positiveClass set), else the class index. Throws TableValueError
 * for a value outside the declared classes.
 */
export function encodeLabel(schema: TableSchema, raw: string | undefined): number {
  const index = raw === undefined ? -1 : schema.classes.indexOf(raw);
  if (index < 0) {
    throw new TableValueError(
      schema.labelColumn,
      `'${raw ?? ''}' is not one of the classes ${schema.classes.join(', ')}`,
    );
  }
  return schema.positiveClass === undefined ? index : raw === schema.positiveClass ? 1 : 0;
}

/**
 * Encodes rows (objects from column name to raw text) under `schema` into a Dataset. `onError(row, error)` may
 * rethrow with context (file and line); by default the TableValueError propagates with the row index added.
 */
export function encodeTable(
  schema: TableSchema,
  rows: readonly Record<string, string | undefined>[],
  onError?: (row: number, error: TableValueError) => never,
): Dataset {
  validateTableSchema(schema);
  if (!Array.isArray(rows)) throw new TypeError('rows must be an array');
  const width = encodedWidth(schema);
  const features = new Float32Array(rows.length * width);
  const labels = new Float32Array(rows.length);
  rows.forEach((row, r) => {
    try {
      let offset = r * width;
      for (const column of schema.columns) offset = encodeValue(column, row[column.name], features, offset);
      labels[r] = encodeLabel(schema, row[schema.labelColumn]);
    } catch (error) {
      if (error instanceof TableValueError && onError) onError(r, error);
      if (error instanceof TableValueError) {
        throw new TableValueError(error.column, `row ${r}, column ${error.column}: ${error.message}`);
      }
      throw error;
    }
  });
  const classCount = schema.positiveClass === undefined ? schema.classes.length : 2;
  return { features, labels, count: rows.length, featureCount: width, classCount };
}
