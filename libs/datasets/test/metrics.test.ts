import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binaryMetrics, logLoss, prAuc, rocAuc } from '../src/index.js';

/**
 * A second, independent ROC AUC: the trapezoidal area under the ROC curve built threshold by threshold (Fawcett
 * 2006, "An introduction to ROC analysis", Algorithm 2), tied scores entering as one point.
 */
function trapezoidAuc(scores: number[], labels: number[]): number {
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const P = labels.reduce((a, b) => a + b, 0);
  const N = labels.length - P;
  let tp = 0;
  let fp = 0;
  let prevTp = 0;
  let prevFp = 0;
  let area = 0;
  for (let i = 0; i < order.length; i++) {
    if (labels[order[i]] === 1) tp++;
    else fp++;
    if (i === order.length - 1 || scores[order[i + 1]] !== scores[order[i]]) {
      area += ((fp - prevFp) * (tp + prevTp)) / 2;
      prevTp = tp;
      prevFp = fp;
    }
  }
  return area / (P * N);
}

/** Brute force over all (positive, negative) pairs: P(score+ > score-) + P(tie) / 2. */
function pairAuc(scores: number[], labels: number[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++)
    for (let j = 0; j < scores.length; j++)
      if (labels[i] === 1 && labels[j] === 0) {
        pairs++;
        sum += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      }
  return sum / pairs;
}

const sample = fc
  .array(fc.tuple(fc.integer({ min: -5, max: 5 }), fc.constantFrom(0, 1)), { minLength: 2, maxLength: 60 })
  .filter((rows) => rows.some((r) => r[1] === 1) && rows.some((r) => r[1] === 0));

describe('rocAuc', () => {
  it('known answers, ties counted one half', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12); // scikit-learn's doc example
    expect(rocAuc([1, 1, 1, 1], [0, 1, 0, 1])).toBe(0.5);
    expect(rocAuc([3, 2, 1], [1, 1, 0])).toBe(1);
    expect(rocAuc([1, 2, 2, 3], [0, 1, 0, 1])).toBe(0.875);
  });

  it('property: equals the trapezoidal ROC area and the pair count, on heavily tied integer scores', () => {
    fc.assert(
      fc.property(sample, (rows) => {
        const scores = rows.map((r) => r[0]);
        const labels = rows.map((r) => r[1]);
        const auc = rocAuc(scores, labels);
        expect(auc).toBeCloseTo(trapezoidAuc(scores, labels), 12);
        expect(auc).toBeCloseTo(pairAuc(scores, labels), 12);
        // flipping the scores flips the AUC
        expect(
          rocAuc(
            scores.map((s) => -s),
            labels,
          ),
        ).toBeCloseTo(1 - auc, 12);
      }),
    );
  });

  it('refuses one class, NaN, non-binary labels and mismatched lengths', () => {
    expect(() => rocAuc([1, 2], [1, 1])).toThrow(RangeError);
    expect(() => rocAuc([1, Number.NaN], [0, 1])).toThrow(/NaN/);
    expect(() => rocAuc([1, 2], [0, 2])).toThrow(/0 or 1/);
    expect(() => rocAuc([1], [0, 1])).toThrow(/length/);
    expect(() => rocAuc(null as never, [])).toThrow(TypeError);
  });
});

describe('prAuc and logLoss', () => {
  it('known answers (scikit-learn average_precision_score)', () => {
    expect(prAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.8333333333333333, 12);
    expect(prAuc([1, 1, 1, 1], [0, 1, 0, 1])).toBe(0.5); // one threshold: precision 1/2 at recall 1
    expect(prAuc([3, 2, 1], [1, 1, 0])).toBe(1);
    expect(logLoss([0, 0], [0, 1])).toBeCloseTo(Math.log(2), 12);
    expect(logLoss([1000, -1000], [1, 0])).toBe(0);
    expect(logLoss([-1000], [1])).toBeCloseTo(1000, 9);
  });

  it('property: average precision lies between the positive rate and 1; binaryMetrics agrees', () => {
    fc.assert(
      fc.property(sample, (rows) => {
        const scores = rows.map((r) => r[0]);
        const labels = rows.map((r) => r[1]);
        const ap = prAuc(scores, labels);
        expect(ap).toBeLessThanOrEqual(1 + 1e-12);
        expect(ap).toBeGreaterThan(0);
        const m = binaryMetrics(scores, labels);
        expect(m).toMatchObject({ rocAuc: rocAuc(scores, labels), prAuc: ap, count: rows.length });
      }),
    );
  });
});
