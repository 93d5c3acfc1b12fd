import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitValidation } from './validation-split.js';

function data(count: number, featureCount = 3) {
  const features = new Float32Array(count * featureCount);
  const labels = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < featureCount; j++) features[i * featureCount + j] = i + j / 10;
    labels[i] = i % 4;
  }
  return { features, labels, count, featureCount };
}
const rowsOf = (d: ReturnType<typeof data>) =>
  Array.from(
    { length: d.count },
    (_, i) => `${d.features.subarray(i * d.featureCount, (i + 1) * d.featureCount)}|${d.labels[i]}`,
  );

const identity = { identitySeed: new Uint8Array(randomBytes(32)) };
const split = { fraction: 0.2, seed: 1 };

describe('validation split', () => {
  it('puts every record on exactly one side (never both), about the pinned fraction', () => {
    const all = data(2000);
    const { training, validation } = splitValidation(all, identity, split);
    const train = new Set(rowsOf(training));
    const held = rowsOf(validation!);
    expect(held.some((r) => train.has(r))).toBe(false);
    expect(training.count + validation!.count).toBe(2000);
    expect(new Set([...train, ...held]).size).toBe(2000);
    // binomial(2000, 0.2): mean 400, std ~18
    expect(Math.abs(validation!.count - 400)).toBeLessThan(6 * 18);
  });

  it('is a per-record coin: adding or removing records never moves another record', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 199 }), (drop) => {
        const all = data(200);
        const held = new Set(rowsOf(splitValidation(all, identity, split).validation!));
        const rows = rowsOf(all).filter((_, i) => i !== drop);
        const fewer = {
          ...all,
          count: 199,
          features: new Float32Array([...all.features].filter((_, k) => Math.floor(k / 3) !== drop)),
          labels: new Float32Array([...all.labels].filter((_, i) => i !== drop)),
        };
        const heldFewer = new Set(rowsOf(splitValidation(fewer, identity, split).validation!));
        return rows.every((r) => held.has(r) === heldFewer.has(r));
      }),
      { numRuns: 20, seed: 2 },
    );
  });

  it('is fixed by the site secret (one per enrollment) and the seed, and private to the site', () => {
    const all = data(500);
    const a = rowsOf(splitValidation(all, identity, split).validation!);
    expect(rowsOf(splitValidation(all, identity, split).validation!)).toEqual(a);
    const other = { identitySeed: new Uint8Array(randomBytes(32)) };
    expect(rowsOf(splitValidation(all, other, split).validation!)).not.toEqual(a);
    expect(rowsOf(splitValidation(all, identity, { ...split, seed: 2 }).validation!)).not.toEqual(a);
  });

  it('without a pinned split every record trains; a bad fraction is refused', () => {
    const all = data(10);
    expect(splitValidation(all, identity, undefined)).toEqual({ training: all, validation: null });
    expect(() => splitValidation(all, identity, { fraction: 0.9, seed: 0 })).toThrow(RangeError);
  });
});
