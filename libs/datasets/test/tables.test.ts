import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  ADULT_SCHEMA,
  encodedWidth,
  loadAdult,
  loadMammography,
  MAMMOGRAPHY_SCHEMA,
  parsePartitionScheme,
  partitionByValues,
  partitionIndices,
  readVendoredRows,
} from '../src/index.js';

describe('vendored tables', () => {
  it('Adult: the official 32,561 / 16,281 rows, 121 features, the documented label balance', () => {
    const { train, test, trainRows } = loadAdult();
    expect([train.count, test.count, train.featureCount]).toEqual([32_561, 16_281, 121]);
    expect(encodedWidth(ADULT_SCHEMA)).toBe(121);
    const rate = (labels: Float32Array) => labels.reduce((a, b) => a + b, 0) / labels.length;
    expect(rate(train.labels)).toBeCloseTo(0.2408, 3); // adult.names: 23.93% over train + test with unknowns
    expect(rate(test.labels)).toBeCloseTo(0.2362, 3);
    expect(trainRows.filter((r) => r.workclass === '?').length).toBe(1836);
    expect(readVendoredRows('adult-test').every((r) => !r.income.endsWith('.'))).toBe(true);
  });

  it('mammography: a stratified 70/30 split, 78 test positives, reproducible by seed', () => {
    const a = loadMammography({ seed: 0 });
    expect([a.train.count, a.test.count, a.train.featureCount]).toEqual([7828, 3355, 6]);
    expect(a.test.labels.reduce((x, y) => x + y, 0)).toBe(78);
    expect(a.train.labels.reduce((x, y) => x + y, 0)).toBe(182);
    expect(loadMammography({ seed: 0 }).test.features).toEqual(a.test.features);
    expect(loadMammography({ seed: 1 }).test.features).not.toEqual(a.test.features);
  });

  it.each([
    ['adult', ADULT_SCHEMA],
    ['mammography', MAMMOGRAPHY_SCHEMA],
  ] as const)('examples/%s.yaml declares the same public schema as the code', (name, schema) => {
    const text = readFileSync(new URL(`../../../examples/${name}.yaml`, import.meta.url), 'utf8');
    const { dataset } = parse(text) as { dataset: Record<string, unknown> };
    expect(dataset).toMatchObject({
      kind: 'table',
      columns: schema.columns,
      labelColumn: schema.labelColumn,
      classes: schema.classes,
      positiveClass: schema.positiveClass,
    });
    expect(dataset.classPrior).toBeCloseTo(schema.classPrior!, 5);
  });
});

describe('by-column partitions', () => {
  it('parses by-column:NAME and refuses an empty name', () => {
    expect(parsePartitionScheme('by-column:race')).toEqual({ kind: 'by-column', column: 'race' });
    expect(() => parsePartitionScheme('by-column:')).toThrow(RangeError);
  });

  it('gives all rows of a value to one site, largest values first to the emptiest site (ties: lowest index)', () => {
    const values = ['a', 'b', 'a', 'c', 'a', 'b', 'd'];
    expect(partitionByValues(values, 2)).toEqual([
      [0, 2, 4, 6],
      [1, 3, 5],
    ]);
    expect(() => partitionByValues(values, 5)).toThrow(/4 distinct values, fewer than the 5 sites/);
    expect(() =>
      partitionIndices(new Float32Array(7), { sites: 2, scheme: { kind: 'by-column', column: 'x' } }),
    ).toThrow(/needs the column's value/);
  });

  it('property: every row goes to exactly one site and no value is split', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { minLength: 5, maxLength: 80 }), (values) => {
        const sites = Math.min(3, new Set(values).size);
        const parts = partitionByValues(values, sites);
        expect(parts.flat().sort((x, y) => x - y)).toEqual(values.map((_, i) => i));
        for (const part of parts) expect(part.length).toBeGreaterThan(0);
        const owner = new Map<string, number>();
        parts.forEach((part, s) => part.forEach((row) => owner.set(values[row], s)));
        parts.forEach((part, s) => part.forEach((row) => expect(owner.get(values[row])).toBe(s)));
      }),
    );
  });
});
