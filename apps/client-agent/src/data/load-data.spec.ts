import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCsvDataset, loadMnistShard, parseShard } from './load-data.js';

const schema = {
  kind: 'table' as const,
  featureColumns: ['age', 'income'],
  labelColumn: 'outcome',
  classes: ['no', 'yes'],
};
const dir = mkdtempSync(join(tmpdir(), 'data-'));
const csv = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

describe('loadCsvDataset', () => {
  it('reads features in schema order and maps labels to class indices', () => {
    const file = csv('ok.csv', 'income,outcome,age,extra\n10,yes,30,x\n20.5,no,41,y\n');
    const data = loadCsvDataset(file, schema, 'outcome');
    expect(Array.from(data.features)).toEqual([30, 10, 41, 20.5]);
    expect(Array.from(data.labels)).toEqual([1, 0]);
    expect(data).toMatchObject({ count: 2, featureCount: 2, classCount: 2 });
  });

  it.each([
    ['missing.csv', 'age,outcome\n1,yes\n', /missing column income/],
    [
      'nan.csv',
      'age,income,outcome\n1,2,yes\n3,abc,no\n',
      /line 3, column income: expected a finite number, got 'abc'/,
    ],
    ['empty-cell.csv', 'age,income,outcome\n1,,yes\n', /line 2, column income/],
    ['inf.csv', 'age,income,outcome\nInfinity,2,yes\n', /line 2, column age/],
    [
      'label.csv',
      'age,income,outcome\n1,2,maybe\n',
      /line 2, column outcome: 'maybe' is not one of the classes no, yes/,
    ],
    ['header-only.csv', 'age,income,outcome\n', /no data rows/],
    ['ragged.csv', 'age,income,outcome\n1,2\n', /not valid CSV/],
  ])('rejects %s with the row and column', (name, text, message) => {
    expect(() => loadCsvDataset(csv(name, text), schema, 'outcome')).toThrow(message);
  });

  it('rejects a label column other than the federation’s, and an unreadable file', () => {
    expect(() => loadCsvDataset(csv('x.csv', 'a\n1\n'), schema, 'label')).toThrow(/does not match/);
    expect(() => loadCsvDataset(join(dir, 'nope.csv'), schema, 'outcome')).toThrow(/cannot read .*ENOENT/);
  });
});

describe('loadCsvDataset with schema-driven columns', () => {
  const table = {
    kind: 'table' as const,
    columns: [
      { name: 'age', type: 'numeric' as const, min: 20, max: 60, missing: ['?'] },
      { name: 'sex', type: 'categorical' as const, values: ['F', 'M'], missing: ['?'] },
    ],
    labelColumn: 'outcome',
    classes: ['no', 'yes', 'unsure'],
    positiveClass: 'yes',
  };

  it('encodes by the public declaration: clip and scale, one-hot, other, missing; binary labels', () => {
    const file = csv('cols.csv', 'sex,outcome,age\nM,yes,40\n?,no,99\nX,unsure,?\n');
    const data = loadCsvDataset(file, table, 'outcome');
    expect(data).toMatchObject({ count: 3, featureCount: 6, classCount: 2 });
    expect(Array.from(data.labels)).toEqual([1, 0, 0]);
    expect(Array.from(data.features)).toEqual([0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0]);
  });

  it.each([
    [
      'cols-nan.csv',
      'age,sex,outcome\n30,F,no\n30,F,no\nabc,M,yes\n',
      /line 4, column age: expected a finite number or a missing token \('\?'\), got 'abc'/,
    ],
    ['cols-label.csv', 'age,sex,outcome\n30,F,maybe\n', /line 2, column outcome: 'maybe' is not one of the classes/],
    ['cols-missing-col.csv', 'age,outcome\n30,no\n', /missing column sex/],
  ])('rejects %s with the line and column', (name, text, message) => {
    expect(() => loadCsvDataset(csv(name, text), table, 'outcome')).toThrow(message);
  });
});

describe('MNIST shards', () => {
  it('parses i/n and rejects out-of-range shards', () => {
    expect(parseShard('2/10')).toEqual({ index: 2, of: 10 });
    for (const bad of ['10/10', '-1/3', '1', 'a/b', '0/0']) expect(() => parseShard(bad)).toThrow(RangeError);
  });

  it('gives disjoint shards with the same seed', () => {
    const a = loadMnistShard({ index: 0, of: 4, partition: 'iid', seed: 5 });
    const b = loadMnistShard({ index: 1, of: 4, partition: 'iid', seed: 5 });
    expect(a.count + b.count).toBe(4000);
    const rowBytes = 784 * 4;
    const rows = (d: typeof a) =>
      new Set(
        Array.from({ length: d.count }, (_, i) =>
          Buffer.from(d.features.buffer, d.features.byteOffset + i * rowBytes, rowBytes).toString('base64'),
        ),
      );
    const rowsOfB = rows(b);
    const overlap = [...rows(a)].filter((r) => rowsOfB.has(r));
    expect(overlap.length).toBeLessThan(5); // MNIST has a few duplicate images; shards share no rows
  });
});
