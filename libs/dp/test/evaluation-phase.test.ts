/**
 * Training and evaluation phases compose as the pointwise maximum of their RDP curves (accountant.ts#epsilonOfMerged:
 * a record is in exactly one of the two by the site's private coin; Renyi divergence is jointly quasi-convex).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkBudget, computeEpsilon, historyRdp, type Phase } from '../src/index.js';

const train: Phase = { sampleRate: 0.1, noiseMultiplier: 1.1, steps: 300 };
const evaluate: Phase = { sampleRate: 1, noiseMultiplier: 20, steps: 10, use: 'evaluation' };

describe('evaluation phases', () => {
  it('take the pointwise maximum of the training and evaluation curves, not their sum', () => {
    const t = historyRdp([train]);
    const e = historyRdp([{ ...evaluate, use: undefined }]);
    const both = historyRdp([train, evaluate]);
    for (let k = 0; k < both.length; k++) expect(both[k]).toBe(Math.max(t[k], e[k]));
    // the sum is what the rule saves: a plain composition is strictly larger
    const summed = historyRdp([train, { ...evaluate, use: 'training' }]);
    expect(computeEpsilon([train, evaluate], 1e-5).epsilon).toBeLessThan(
      computeEpsilon([train, { ...evaluate, use: 'training' }], 1e-5).epsilon,
    );
    expect(summed.some((v, k) => v > both[k])).toBe(true);
  });

  it('an evaluation below the training curve costs no epsilon; above it, it is what is charged', () => {
    const alone = computeEpsilon([train], 1e-5).epsilon;
    expect(computeEpsilon([train, evaluate], 1e-5).epsilon).toBe(alone);
    const loud: Phase = { sampleRate: 1, noiseMultiplier: 0.8, steps: 10, use: 'evaluation' };
    const evalAlone = computeEpsilon([{ ...loud, use: undefined }], 1e-5).epsilon;
    expect(evalAlone).toBeGreaterThan(alone);
    expect(computeEpsilon([train, loud], 1e-5).epsilon).toBeCloseTo(evalAlone, 9);
  });

  it('prv: the larger of the two epsilons', () => {
    const t = computeEpsilon([train], 1e-5, { accountant: 'prv' }).epsilon;
    const loud: Phase = { sampleRate: 1, noiseMultiplier: 3, steps: 4, use: 'evaluation' };
    const e = computeEpsilon([{ ...loud, use: undefined }], 1e-5, { accountant: 'prv' }).epsilon;
    const both = computeEpsilon([train, loud], 1e-5, { accountant: 'prv' }).epsilon;
    expect(both).toBe(Math.max(t, e));
  });

  it('the budget check uses the same rule', () => {
    const cap = { epsilon: computeEpsilon([train], 1e-5).epsilon * 1.000001, delta: 1e-5 };
    expect(checkBudget({ history: [train], plan: [evaluate], cap }).fits).toBe(true);
    expect(checkBudget({ history: [train], plan: [{ ...evaluate, use: 'training' }], cap }).fits).toBe(false);
  });

  it('refuses an unknown use', () => {
    expect(() => computeEpsilon([{ ...train, use: 'test' as never }], 1e-5)).toThrow(RangeError);
  });

  it('property: max(train, eval) <= epsilon(both) <= epsilon(train + eval composed)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 5, noNaN: true }),
        fc.integer({ min: 1, max: 50 }),
        fc.double({ min: 0.5, max: 30, noNaN: true }),
        fc.integer({ min: 1, max: 20 }),
        (zT, steps, zE, evals) => {
          const t: Phase = { sampleRate: 0.05, noiseMultiplier: zT, steps };
          const e: Phase = { sampleRate: 1, noiseMultiplier: zE, steps: evals, use: 'evaluation' };
          const both = computeEpsilon([t, e], 1e-5).epsilon;
          const lower = Math.max(
            computeEpsilon([t], 1e-5).epsilon,
            computeEpsilon([{ ...e, use: undefined }], 1e-5).epsilon,
          );
          const upper = computeEpsilon([t, { ...e, use: undefined }], 1e-5).epsilon;
          return both >= lower - 1e-12 && both <= upper + 1e-12;
        },
      ),
      { numRuns: 40, seed: 5 },
    );
  });
});
