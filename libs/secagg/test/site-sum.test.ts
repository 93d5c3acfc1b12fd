import { roundedSensitivity } from '@concord/dp';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeSiteSum } from '../src/index.js';

const seed = (k: number) => new Uint8Array(32).fill(k);
const centred = (words: Uint32Array) => Int32Array.from(words, (w) => w | 0);

describe('encodeSiteSum: record-level distributed DP encoding of a site sum', () => {
  it('guards every argument before any work', async () => {
    const o = { clip: 1, scaleBits: 10, localNoiseVariance: 4 };
    await expect(encodeSiteSum([1, 2] as never, o)).rejects.toThrow(TypeError);
    await expect(encodeSiteSum(new Float32Array(0), o)).rejects.toThrow(RangeError);
    await expect(encodeSiteSum(new Float32Array(2), null as never)).rejects.toThrow(TypeError);
    await expect(encodeSiteSum(new Float32Array(2), { ...o, scaleBits: 31 })).rejects.toThrow(RangeError);
    await expect(encodeSiteSum(new Float32Array(2), { ...o, clip: 2 ** 21 })).rejects.toThrow(/below 2\^31/);
    await expect(encodeSiteSum(new Float32Array(2), { ...o, clip: 0 })).rejects.toThrow(RangeError);
    await expect(encodeSiteSum(new Float32Array(2), { ...o, localNoiseVariance: -1 })).rejects.toThrow(RangeError);
    await expect(encodeSiteSum(new Float32Array([NaN]), o)).rejects.toThrow(/NaN|finite/);
  });

  it('without noise: each word is floor or ceil of the clamped value times 2^s, two complement mod 2^32', async () => {
    const values = new Float32Array([0.3, -0.3, 5, -5, 1.25, -1e-7, 0]);
    const out = centred(await encodeSiteSum(values, { clip: 2, scaleBits: 4, localNoiseVariance: 0, seed: seed(1) }));
    values.forEach((v, i) => {
      const y = Math.max(-2, Math.min(2, v)) * 16;
      expect([Math.floor(y), Math.ceil(y)]).toContain(out[i]);
    });
    expect(out[2]).toBe(32);
    expect(out[3]).toBe(-32);
    expect(out[4]).toBe(20);
    expect(out[6]).toBe(0);
  });

  it('rounding is unbiased and the noise share has the requested variance', async () => {
    const n = 200_000;
    const rounded = centred(
      await encodeSiteSum(new Float32Array(n).fill(0.3), { clip: 1, scaleBits: 0, localNoiseVariance: 0 }),
    );
    const mean = rounded.reduce((a, b) => a + b, 0) / n;
    expect(Math.abs(mean - 0.3)).toBeLessThan(5 * Math.sqrt(0.21 / n));
    const noisy = centred(await encodeSiteSum(new Float32Array(n), { clip: 1, scaleBits: 8, localNoiseVariance: 400 }));
    const m = noisy.reduce((a, b) => a + b, 0) / n;
    const variance = noisy.reduce((a, b) => a + (b - m) ** 2, 0) / n;
    expect(Math.abs(m)).toBeLessThan(5 * Math.sqrt(400 / n));
    expect(variance / 400).toBeGreaterThan(0.98);
    expect(variance / 400).toBeLessThan(1.02);
    expect(noisy.some((x) => x < 0)).toBe(true); // negatives wrap to high words and come back centred
  });

  it('sites sum mod 2^32 to the sum of their values (plus the shares)', async () => {
    const d = 64;
    const sites = Array.from({ length: 5 }, (_, s) => Float32Array.from({ length: d }, (_, i) => Math.sin(s * d + i)));
    const sum = new Uint32Array(d);
    for (const v of sites) {
      const words = await encodeSiteSum(v, { clip: 4, scaleBits: 12, localNoiseVariance: 0 });
      for (let i = 0; i < d; i++) sum[i] = (sum[i] + words[i]) >>> 0;
    }
    for (let i = 0; i < d; i++) {
      const exact = sites.reduce((a, v) => a + v[i], 0);
      expect(Math.abs((sum[i] | 0) / 4096 - exact)).toBeLessThanOrEqual(5 / 4096);
    }
  });

  it('property (native kernel): one record moves the rounded sum by <= C 2^s + sqrt(d) under the shared seed', async () => {
    // The same seed gives the same uniforms (and the same noise), i.e. exactly the coupling of libs/dp's proof.
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 20 }),
        fc.double({ min: 0.001, max: 2, noNaN: true }),
        fc.integer({ min: 0, max: 255 }),
        async (d, scaleBits, clipNorm, k) => {
          const sum = Float32Array.from({ length: d }, (_, i) => Math.sin(i * 7.1 + k) * 3);
          const direction = Float64Array.from({ length: d }, (_, i) => Math.cos(i * 3.3 + k));
          const norm = Math.hypot(...direction) || 1;
          const other = Float32Array.from(sum, (v, i) => v + (direction[i] / norm) * clipNorm * 0.999);
          const o = { clip: 8, scaleBits, localNoiseVariance: 9, seed: seed(k) };
          const a = centred(await encodeSiteSum(sum, o));
          const b = centred(await encodeSiteSum(other, o));
          let squared = 0;
          for (let i = 0; i < d; i++) {
            const v = b[i] - a[i];
            expect(Math.abs(v)).toBeLessThanOrEqual(Math.ceil(Math.abs(other[i] - sum[i]) * 2 ** scaleBits));
            squared += v * v;
          }
          // the float32 change actually made (<= C up to float32 rounding)
          const change = Math.hypot(...Array.from(other, (v, i) => v - sum[i]));
          expect(change).toBeLessThanOrEqual(clipNorm);
          const l2Clip = Math.max(change, Number.MIN_VALUE);
          const bound = roundedSensitivity({ l2Clip, granularity: 2 ** -scaleBits, dimension: d, roundingBias: 0 });
          expect(Math.sqrt(squared)).toBeLessThanOrEqual(bound.l2 * (1 + 1e-12));
        },
      ),
      { numRuns: 60 },
    );
  });
});
