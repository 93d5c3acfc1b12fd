/** Distributed noise sized for t - c honest shares (distributed-sizing.ts): known answers, guards, a property. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeEpsilon, distributedShareVariance, honestShareCount } from '../src/index.js';

describe('distributed share sizing', () => {
  it('known answers: (z C 2^s)^2 / (t - c)', () => {
    expect(honestShareCount(6, 1)).toBe(5);
    const o = { noiseMultiplier: 1.5, clipNorm: 2, scaleBits: 10, threshold: 6, maxColluders: 1 };
    expect(distributedShareVariance(o)).toBe((1.5 * 2 * 1024) ** 2 / 5);
    expect(distributedShareVariance({ ...o, maxColluders: 0 })).toBe((1.5 * 2 * 1024) ** 2 / 6);
  });

  it('guards: c must be below t, every argument checked', () => {
    const o = { noiseMultiplier: 1, clipNorm: 1, scaleBits: 10, threshold: 3, maxColluders: 1 };
    expect(() => honestShareCount(3, 3)).toThrow(RangeError);
    expect(() => honestShareCount(3, -1)).toThrow(RangeError);
    expect(() => distributedShareVariance({ ...o, maxColluders: 3 })).toThrow(RangeError);
    expect(() => distributedShareVariance({ ...o, noiseMultiplier: 0 })).toThrow(RangeError);
    expect(() => distributedShareVariance({ ...o, scaleBits: 1.5 })).toThrow(RangeError);
    expect(() => distributedShareVariance(null as never)).toThrow(TypeError);
  });

  it('property: the t - c honest shares carry the central variance', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.3, max: 10, noNaN: true }),
        fc.integer({ min: 0, max: 16 }),
        fc.integer({ min: 2, max: 60 }),
        fc.integer({ min: 0, max: 10 }),
        (z, s, t, c) => {
          fc.pre(c < t);
          const central = (z * 1 * 2 ** s) ** 2;
          const share = distributedShareVariance({
            noiseMultiplier: z,
            clipNorm: 1,
            scaleBits: s,
            threshold: t,
            maxColluders: c,
          });
          expect(Math.abs((t - c) * share - central) / central).toBeLessThan(1e-12);
        },
      ),
      { numRuns: 200, seed: 15 },
    );
  });

  it('the accountant agrees: t - c honest shares of this size give the same epsilon as the central noise', () => {
    const z = 1.2;
    const s = 10;
    const phase = (localSigma: number, minClients: number) => ({
      sampleRate: 0.05,
      noiseMultiplier: z,
      steps: 20,
      mechanism: {
        kind: 'distributed-discrete-gaussian' as const,
        l2Clip: 1,
        granularity: 2 ** -s,
        dimension: 100,
        roundingBias: 0,
        localSigma,
        minClients,
      },
    });
    const variance = distributedShareVariance({
      noiseMultiplier: z,
      clipNorm: 1,
      scaleBits: s,
      threshold: 6,
      maxColluders: 1,
    });
    const sized = computeEpsilon([phase(Math.sqrt(variance), 5)], 1e-5).epsilon;
    // the same central variance counted over 6 shares of the old size
    const old = computeEpsilon([phase(Math.sqrt((z * 2 ** s) ** 2 / 6), 6)], 1e-5).epsilon;
    expect(Math.abs(sized - old) / old).toBeLessThan(0.02);
    // the old sizing with only 5 honest shares present: more epsilon than charged
    const leaked = computeEpsilon([phase(Math.sqrt((z * 2 ** s) ** 2 / 6), 5)], 1e-5).epsilon;
    expect(leaked).toBeGreaterThan(old * 1.05);
  });
});
