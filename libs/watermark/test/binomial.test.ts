import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binomialUpperTail, logBinomialUpperTail } from '../src/binomial.js';

/** Exact P(X >= k) for X ~ Bin(n, a/b) with BigInt rationals: the second implementation. */
function exactTail(n: number, k: number, a: bigint, b: bigint): number {
  let numerator = 0n;
  let choose = 1n;
  for (let i = 0; i <= n; i++) {
    if (i > 0) choose = (choose * BigInt(n - i + 1)) / BigInt(i);
    if (i >= k) numerator += choose * a ** BigInt(i) * (b - a) ** BigInt(n - i);
  }
  const denominator = b ** BigInt(n);
  // The ratio as a double with 64 significant bits of the QUOTIENT: scale the numerator up by 2^s before the integer
  // division. (Shifting both down to 60 bits of the denominator, as before, left a tail of 1e-9 only ~30 bits of
  // numerator: the reference itself was off by ~1e-9 relative, and fast-check found it at n = 65, k = 26, p = 1/10.)
  if (numerator === 0n) return 0;
  const bits = (x: bigint) => x.toString(2).length;
  const s = Math.max(0, 64 - (bits(numerator) - bits(denominator)));
  const quotient = (numerator << BigInt(s)) / denominator;
  return (Number(quotient) * 2 ** (64 - s)) / 2 ** 64;
}

describe('binomialUpperTail', () => {
  it('matches known answers', () => {
    expect(binomialUpperTail(256, 256)).toBeCloseTo(2 ** -256, 90);
    expect(binomialUpperTail(10, 8)).toBeCloseTo(56 / 1024, 15);
    expect(binomialUpperTail(10, 0)).toBe(1);
    expect(binomialUpperTail(10, 11)).toBe(0);
    expect(binomialUpperTail(1, 1, 0.1)).toBeCloseTo(0.1, 15);
    // P(X >= 176 | 256, 1/2) ~ 1.1e-9: the detection threshold sits near 69% matching bits
    const p176 = binomialUpperTail(256, 176);
    expect(p176).toBeGreaterThan(1e-10);
    expect(p176).toBeLessThan(1e-8);
  });

  it('agrees with exact rational arithmetic at the case fast-check once found (n = 65, k = 26, p = 1/10)', () => {
    const exact = exactTail(65, 26, 1n, 10n);
    expect(Math.abs(binomialUpperTail(65, 26, 0.1) - exact) / exact).toBeLessThan(1e-12);
  });

  it('agrees with exact rational arithmetic (p = 1/2 and p = 1/10)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, f) => {
        const k = Math.min(n, Math.floor(f * (n + 1)));
        for (const [a, b] of [
          [1n, 2n],
          [1n, 10n],
        ] as const) {
          const exact = exactTail(n, k, a, b);
          const got = binomialUpperTail(n, k, Number(a) / Number(b));
          if (exact > 1e-300) expect(Math.abs(got - exact) / exact).toBeLessThan(1e-9);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('never increases with k and stays in [0, 1]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), (n, p) => {
        let previous = -Infinity;
        for (let k = n; k >= 0; k -= Math.max(1, Math.floor(n / 37))) {
          const log = logBinomialUpperTail(n, k, p);
          expect(log).toBeLessThanOrEqual(0);
          expect(log).toBeGreaterThanOrEqual(previous - 1e-9);
          previous = log;
        }
      }),
      { numRuns: 100 },
    );
  });

  it('guards its arguments', () => {
    expect(() => binomialUpperTail('3' as unknown as number, 1)).toThrow(TypeError);
    expect(() => binomialUpperTail(3.5, 1)).toThrow(/n must/);
    expect(() => binomialUpperTail(3, -1)).toThrow(/k must/);
    expect(() => binomialUpperTail(3, 1, 1)).toThrow(/p must/);
  });
});
