import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  columnWidth,
  encodedFeatureNames,
  encodedWidth,
  encodeLabel,
  encodeTable,
  TableValueError,
  validateTableSchema,
  type TableSchema,
} from '../src/index.js';

const schema: TableSchema = {
  columns: [
    { name: 'age', type: 'numeric', min: 20, max: 60 },
    { name: 'gain', type: 'numeric', min: 0, max: 99, scale: 'log1p', missing: ['?', ''] },
    { name: 'sex', type: 'categorical', values: ['F', 'M'] },
    { name: 'job', type: 'categorical', values: ['a', 'b', 'c'], missing: ['?'] },
  ],
  labelColumn: 'y',
  classes: ['no', 'yes'],
  positiveClass: 'yes',
};

describe('encodeTable', () => {
  it('lays out numeric, indicator, one-hot, other and missing slots in schema order', () => {
    expect(encodedWidth(schema)).toBe(1 + 2 + 3 + 5);
    expect(encodedFeatureNames(schema)).toEqual([
      'age',
      'gain',
      'gain:missing',
      'sex=F',
      'sex=M',
      'sex:other',
      'job=a',
      'job=b',
      'job=c',
      'job:other',
      'job:missing',
    ]);
    const data = encodeTable(schema, [
      { age: '40', gain: '0', sex: 'M', job: 'b', y: 'yes' },
      { age: '10', gain: '?', sex: 'X', job: '?', y: 'no' },
      { age: '99', gain: '99', sex: 'F', job: 'zzz', y: 'no' },
    ]);
    expect(data).toMatchObject({ count: 3, featureCount: 11, classCount: 2 });
    expect(Array.from(data.labels)).toEqual([1, 0, 0]);
    const row = (r: number) => Array.from(data.features.subarray(r * 11, (r + 1) * 11));
    // age 40 is the middle of [20, 60]; gain 0 is the bottom of log1p scaling
    expect(row(0)).toEqual([0, -1, 0, 0, 1, 0, 0, 1, 0, 0, 0]);
    // age clipped to 20 (-1); missing gain: value 0 and the indicator; unknown sex: other; missing job: its slot
    expect(row(1)).toEqual([-1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1]);
    expect(row(2)).toEqual([1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0]);
  });

  it('refuses a value outside the schema, naming the row and the column', () => {
    expect(() => encodeTable(schema, [{ age: 'x', gain: '1', sex: 'F', job: 'a', y: 'no' }])).toThrow(
      /row 0, column age: expected a finite number, got 'x'/,
    );
    expect(() => encodeTable(schema, [{ age: '30', gain: 'NaN', sex: 'F', job: 'a', y: 'no' }])).toThrow(
      /column gain: expected a finite number or a missing token \('\?', ''\)/,
    );
    expect(() => encodeTable(schema, [{ age: '', gain: '1', sex: 'F', job: 'a', y: 'no' }])).toThrow(/column age/);
    expect(() => encodeTable(schema, [{ age: '30', gain: '1', sex: 'F', job: 'a', y: 'maybe' }])).toThrow(
      TableValueError,
    );
    const onError = (row: number, e: TableValueError): never => {
      throw new Error(`line ${row + 2}, column ${e.column}`);
    };
    expect(() => encodeTable(schema, [{ age: '30', gain: '1', sex: 'F', job: 'a' }], onError)).toThrow(
      'line 2, column y',
    );
  });

  it('encodes the label as a class index without a positive class', () => {
    const multi = { ...schema, classes: ['a', 'b', 'c'], positiveClass: undefined };
    expect(encodeLabel(multi, 'c')).toBe(2);
    expect(encodeTable(multi, [{ age: '30', gain: '1', sex: 'F', job: 'a', y: 'b' }]).classCount).toBe(3);
  });

  it('refuses impossible schemas', () => {
    const bad = (change: Partial<TableSchema>) => () => validateTableSchema({ ...schema, ...change });
    expect(bad({ columns: [] })).toThrow(TypeError);
    expect(bad({ columns: [{ name: 'a', type: 'numeric', min: 1, max: 1 }] })).toThrow(/min < max/);
    expect(bad({ columns: [{ name: 'a', type: 'categorical', values: ['x', 'x'] }] })).toThrow(/distinct/);
    expect(bad({ columns: [{ name: 'a', type: 'categorical', values: ['x'], missing: ['x'] }] })).toThrow(/missing/);
    expect(bad({ labelColumn: 'age' })).toThrow(/label/);
    expect(bad({ positiveClass: 'other' })).toThrow(/positiveClass/);
    expect(() => encodedWidth({ columns: [{ name: 'a', type: 'text' } as never] })).toThrow(RangeError);
  });

  it('property: every row encodes into [-1, 1] with one hot slot per categorical column', () => {
    const value = fc.oneof(fc.double({ noNaN: true }).map(String), fc.constantFrom('?', '', 'F', 'M', 'a', 'zz'));
    fc.assert(
      fc.property(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), value, value, (age, sex, job) => {
        const data = encodeTable(schema, [{ age: String(age), gain: '5', sex, job: job === '' ? 'q' : job, y: 'no' }]);
        const f = Array.from(data.features);
        expect(f.every((x) => x >= -1 && x <= 1)).toBe(true);
        expect(f.slice(3, 6).reduce((a, b) => a + b, 0)).toBe(1);
        expect(f.slice(6, 11).reduce((a, b) => a + b, 0)).toBe(1);
        expect(columnWidth(schema.columns[3])).toBe(5);
      }),
    );
  });

  it('property: numeric scaling is monotone and clips at the public bounds', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        (a, b) => {
          const rows = [a, b].map((v) => ({ age: String(v), gain: String(v), sex: 'F', job: 'a', y: 'no' }));
          const f = encodeTable(schema, rows).features;
          if (a <= b) {
            expect(f[0]).toBeLessThanOrEqual(f[11]);
            expect(f[1]).toBeLessThanOrEqual(f[12]);
          }
          if (a <= 20) expect(f[0]).toBe(-1);
          if (a >= 60) expect(f[0]).toBe(1);
        },
      ),
    );
  });
});
