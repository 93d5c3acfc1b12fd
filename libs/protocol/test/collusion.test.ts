/**
 * The SecAgg+ collusion bound (events/collusion.ts; derivation in docs/threat-model.md): known answers for the
 * default cohorts, and a property over cohort sizes and declared colluders.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertCollusionBound,
  collusionMargin,
  collusionSafeShape,
  DEFAULT_MAX_COLLUDERS,
  PrivacyTermsSchema,
} from '../src/index.js';

describe('collusion bound 2t-(k+1) > c', () => {
  it('known answers', () => {
    expect(DEFAULT_MAX_COLLUDERS).toBe(1);
    // the example: 10 sites, k = 9, t = 6: two colluders suffice, so c = 1 at most
    expect(collusionMargin(9, 6)).toBe(2);
    expect(collusionSafeShape(10, 1)).toEqual({ neighbours: 9, threshold: 6 });
    expect(collusionSafeShape(10, 0)).toEqual({ neighbours: 9, threshold: 6 });
    expect(collusionSafeShape(10, 2)).toEqual({ neighbours: 9, threshold: 7 });
    expect(collusionSafeShape(2, 1)).toEqual({ neighbours: 1, threshold: 2 });
    expect(collusionSafeShape(3, 1)).toEqual({ neighbours: 2, threshold: 3 });
    // an even k has margin 1 at the majority threshold: c = 1 needs one more
    expect(collusionMargin(8, 5)).toBe(1);
    expect(() => assertCollusionBound({ neighbours: 8, threshold: 5 }, 1)).toThrow(
      expect.objectContaining({ code: 'E_COLLUSION_BOUND' }),
    );
    expect(collusionSafeShape(100, 1)).toEqual({ neighbours: 16, threshold: 10 });
    // more colluders than a small cohort can hold
    expect(() => collusionSafeShape(3, 3)).toThrow(expect.objectContaining({ code: 'E_COLLUSION_BOUND' }));
    // a given t that breaks the bound is refused, not silently changed
    expect(() => collusionSafeShape(10, 1, { threshold: 5 })).toThrow(
      expect.objectContaining({ code: 'E_COLLUSION_BOUND' }),
    );
    expect(() => collusionSafeShape(10, 1, { neighbours: 7 })).toThrow(RangeError);
    expect(() => collusionSafeShape(1, 0)).toThrow(RangeError);
    expect(() => collusionSafeShape(10, -1)).toThrow(RangeError);
  });

  it('property: every shape it returns is a valid SecAgg+ shape that holds the bound, with t - c >= 1', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 1000 }), fc.integer({ min: 0, max: 20 }), (n, c) => {
        let shape: { neighbours: number; threshold: number };
        try {
          shape = collusionSafeShape(n, c);
        } catch (error) {
          // only when even the complete graph cannot hold it: t = floor((n + c) / 2) + 1 > n
          expect((error as { code?: string }).code).toBe('E_COLLUSION_BOUND');
          expect(Math.floor((n + c) / 2) + 1).toBeGreaterThan(n);
          return;
        }
        const { neighbours: k, threshold: t } = shape;
        expect(k).toBeLessThanOrEqual(n - 1);
        expect(k === n - 1 || k % 2 === 0).toBe(true);
        expect(t).toBeGreaterThanOrEqual(2);
        expect(t).toBeLessThanOrEqual(k + 1);
        expect(2 * t).toBeGreaterThan(k + 1);
        expect(2 * t - (k + 1)).toBeGreaterThan(c);
        expect(t - c).toBeGreaterThanOrEqual(1);
        // t is the smallest threshold that holds the bound for this k
        expect(2 * (t - 1) - (k + 1) <= c || t - 1 < 2).toBe(true);
      }),
      { numRuns: 300, seed: 15 },
    );
  });

  it('privacy terms: distributed terms need c and the sizing rule; unknown fields are refused', () => {
    const ok = {
      mode: 'distributed',
      accountant: 'rdp',
      delta: 1e-5,
      clipNorm: 1,
      maxColluders: 1,
      noiseSizing: 'threshold-minus-colluders',
    };
    expect(PrivacyTermsSchema.parse(ok)).toEqual(ok);
    expect(PrivacyTermsSchema.safeParse({ ...ok, maxColluders: undefined }).success).toBe(false);
    expect(PrivacyTermsSchema.safeParse({ ...ok, noiseSizing: 'threshold' }).success).toBe(false);
    expect(PrivacyTermsSchema.safeParse({ ...ok, accountant: 'prv' }).success).toBe(false);
    expect(PrivacyTermsSchema.safeParse({ mode: 'none', delta: 1e-5 }).success).toBe(false);
  });
});
