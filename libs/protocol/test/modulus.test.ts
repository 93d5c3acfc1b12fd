import { describe, expect, it } from 'vitest';
import { modulusBitsFor, packedByteLength, sumBound, SUM_OVERFLOW_PROBABILITY } from '../src/index.js';

describe('the SecAgg+ modulus a plan derives (issue 20)', () => {
  it('is the bit length of the largest |sum| plus a sign bit, exact at powers of two', () => {
    // 1 site x 255: [-256, 256) holds it in 9 bits; 256 needs 10
    expect(modulusBitsFor({ cohortSize: 1, clamp: 255, scaleBits: 0, dimension: 4 })).toBe(9);
    expect(modulusBitsFor({ cohortSize: 1, clamp: 256, scaleBits: 0, dimension: 4 })).toBe(10);
    // 3 sites x 2^16 = 196,608 < 2^18
    expect(modulusBitsFor({ cohortSize: 3, clamp: 1, scaleBits: 16, dimension: 4 })).toBe(19);
    // a clamp off the grid rounds up (the site's value can round to ceil(clamp 2^s))
    expect(sumBound({ cohortSize: 2, clamp: 0.3, scaleBits: 2, dimension: 1 })).toBe(4);
  });

  it('adds the summed noise tail: sqrt(2 n sigma^2 ln(2d/p)) with p = 2^-40', () => {
    const o = { cohortSize: 10, clamp: 1, scaleBits: 8, dimension: 1000, noiseVariance: 40_000 };
    const tail = Math.sqrt(2 * 10 * 40_000 * Math.log((2 * 1000) / SUM_OVERFLOW_PROBABILITY));
    expect(sumBound(o)).toBeCloseTo(2560 + tail, 9);
    expect(modulusBitsFor(o)).toBe(Math.floor(Math.log2(2560 + tail)) + 2);
    expect(modulusBitsFor(o)).toBeGreaterThan(modulusBitsFor({ ...o, noiseVariance: 0 }));
  });

  it('the old 32-bit clamp (half the range) still gives 32 bits', () => {
    const n = 10;
    const s = 14;
    expect(modulusBitsFor({ cohortSize: n, clamp: 2 ** 31 / (2 * n * 2 ** s), scaleBits: s, dimension: 8341 })).toBe(
      32,
    );
  });

  it('packed length is ceil(b d / 8) and refuses a bad width', () => {
    expect(packedByteLength(17, 8341)).toBe(Math.ceil((17 * 8341) / 8));
    expect(packedByteLength(32, 3)).toBe(12);
    expect(() => packedByteLength(33, 3)).toThrow(RangeError);
    expect(() => modulusBitsFor({ cohortSize: 0, clamp: 1, scaleBits: 0, dimension: 1 })).toThrow(RangeError);
  });
});
