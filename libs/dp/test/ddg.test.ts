import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeEpsilon,
  ddgTau,
  distributedDiscreteGaussianRdp,
  DpUnsupportedError,
  historyRdp,
  roundedSensitivity,
  type DistributedDiscreteGaussian,
} from '@concord/dp';

const mech = (over: Partial<DistributedDiscreteGaussian> = {}): DistributedDiscreteGaussian => ({
  kind: 'distributed-discrete-gaussian',
  l2Clip: 1,
  granularity: 1 / 1000,
  dimension: 1024,
  roundingBias: Math.exp(-0.5),
  localSigma: 3000,
  minClients: 10,
  ...over,
});

describe('distributed discrete Gaussian: rounding sensitivity (KLS21 Theorem 1)', () => {
  it('hand-computed value with sqrt(2 ln(1/beta)) = 1', () => {
    // c/gamma = 1000, d = 1024: squared = 1000^2 + 256 + (1000 + 16) = 1001272; other bound (1000 + 32)^2
    const s = roundedSensitivity({ l2Clip: 1, granularity: 1e-3, dimension: 1024, roundingBias: Math.exp(-0.5) });
    expect(s.l2).toBeCloseTo(Math.sqrt(1_001_272), 9);
    expect(s.l1).toBeCloseTo(32 * Math.sqrt(1_001_272), 6);
  });

  it('beta = 0 gives c/gamma + sqrt(d), and l1 = l2^2 for a short vector', () => {
    const s = roundedSensitivity({ l2Clip: 0.5, granularity: 1, dimension: 4, roundingBias: 0 });
    expect(s.l2).toBe(2.5);
    expect(s.l1).toBe(2.5 * 2);
    const t = roundedSensitivity({ l2Clip: 0.1, granularity: 1, dimension: 100, roundingBias: 0 });
    expect(t.l1).toBeCloseTo(10.1 * 10, 12); // min(sqrt(d), l2) = 10
  });

  it('tau: 0 for one client, 10 e^{-pi^2 sigma^2} for two', () => {
    expect(ddgTau(1, 1)).toBe(0);
    expect(ddgTau(0.5, 2)).toBeCloseTo(10 * Math.exp(-(Math.PI ** 2) * 0.25), 14);
  });
});

describe('distributed discrete Gaussian: RDP (KLS21 Prop. 14, Zhu & Wang 2019 Thm. 6)', () => {
  it('one client (tau = 0), q = 1: alpha l2^2 / (2 sigma^2), the continuous Gaussian with multiplier sigma/l2', () => {
    const m = mech({ minClients: 1, roundingBias: 0, neighbouring: 'contribution' });
    const l2 = 1000 + 32;
    const orders = [2, 5, 17];
    const ddg = distributedDiscreteGaussianRdp({ sampleRate: 1, steps: 3, mechanism: m, orders });
    const gauss = historyRdp([{ sampleRate: 1, noiseMultiplier: m.localSigma / l2, steps: 3 }], orders);
    orders.forEach((a, k) => {
      expect(ddg[k]).toBeCloseTo((3 * a * l2 * l2) / (2 * m.localSigma ** 2), 10);
      expect(ddg[k]).toBeCloseTo(gauss[k], 10);
    });
  });

  it("'record' with conditional rounding (beta > 0) doubles the sensitivity: 4x RDP at tau = 0", () => {
    const orders = [2, 9];
    const rdp = (neighbouring?: 'record' | 'contribution') =>
      distributedDiscreteGaussianRdp({
        sampleRate: 1,
        steps: 1,
        mechanism: mech({ minClients: 1, roundingBias: Math.exp(-0.5), neighbouring }),
        orders,
      });
    const contribution = rdp('contribution');
    expect(rdp()).toEqual(rdp('record'));
    rdp().forEach((v, k) => expect(v).toBeCloseTo(4 * contribution[k], 9));
    expect(() => rdp('site' as never)).toThrow(/mechanism\.neighbouring/);
  });

  it("'record' with plain randomized rounding (beta = 0) is NOT doubled: the shared-uniform coupling", () => {
    const orders = [2, 9, 40];
    const rdp = (neighbouring?: 'record' | 'contribution') =>
      distributedDiscreteGaussianRdp({
        sampleRate: 0.05,
        steps: 7,
        mechanism: mech({ minClients: 4, roundingBias: 0, neighbouring }),
        orders,
      });
    expect(rdp('record')).toEqual(rdp('contribution'));
    expect(rdp()).toEqual(rdp('contribution'));
  });

  it('property: under the shared-uniform coupling a record moves the rounded sum by <= c/gamma + sqrt(d) in L2', () => {
    // The lemma behind the beta = 0 case: R_u(y) = floor(y) + [u < frac(y)] (what native quantize computes, with u
    // on a 2^-53 grid) for two sums y and y' = y + g, the same u for both. Values live on a 2^-10 grid so that y + g
    // and y' - y are exact in doubles: the check is of the lemma, not of floating-point rounding.
    const grid = (max: number) => fc.integer({ min: -max * 1024, max: max * 1024 }).map((k) => k / 1024);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }).chain((d) =>
          fc.record({
            sum: fc.array(grid(1e6), { minLength: d, maxLength: d }),
            change: fc.array(grid(50), { minLength: d, maxLength: d }),
            u: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: d, maxLength: d }),
          }),
        ),
        ({ sum, change, u }) => {
          const d = sum.length;
          const round = (y: number, ui: number) => Math.floor(y) + (ui < y - Math.floor(y) ? 1 : 0);
          let squared = 0;
          for (let i = 0; i < d; i++) {
            const v = round(sum[i] + change[i], u[i]) - round(sum[i], u[i]);
            expect(Math.abs(v)).toBeLessThanOrEqual(Math.ceil(Math.abs(change[i])));
            squared += v * v;
          }
          const norm = Math.hypot(...change);
          if (norm === 0) {
            expect(squared).toBe(0);
            return;
          }
          const { l2 } = roundedSensitivity({ l2Clip: norm, granularity: 1, dimension: d, roundingBias: 0 });
          expect(Math.sqrt(squared)).toBeLessThanOrEqual(l2 * (1 + 1e-12));
        },
      ),
      { numRuns: 500, examples: [[{ sum: [0], change: [0], u: [0] }]] }, // the zero change always runs
    );
  });

  it('fractional orders use ceil(alpha) (RDP is non-decreasing in the order)', () => {
    const [a, b] = distributedDiscreteGaussianRdp({ sampleRate: 0.01, steps: 1, mechanism: mech(), orders: [2.3, 3] });
    expect(a).toBe(b);
  });

  it('property: the general subsampling bound is never below the exact subsampled-Gaussian RDP', () => {
    // with one client tau = 0 and the DDG is exactly Gaussian in RDP, so Zhu-Wang Thm 6 must dominate Mironov et al.
    fc.assert(
      fc.property(
        fc.double({ min: 1e-4, max: 0.5, noNaN: true }),
        fc.double({ min: 0.5, max: 5, noNaN: true }),
        fc.integer({ min: 2, max: 40 }),
        (q, z, alpha) => {
          const m = mech({ minClients: 1, roundingBias: 0, neighbouring: 'contribution' });
          const l2 = 1000 + 32;
          const ddg = distributedDiscreteGaussianRdp({
            sampleRate: q,
            steps: 1,
            mechanism: { ...m, localSigma: z * l2 },
            orders: [alpha],
          })[0];
          const exact = historyRdp([{ sampleRate: q, noiseMultiplier: z, steps: 1 }], [alpha])[0];
          // at alpha = 2 the two are equal in exact arithmetic; log1p of ~q^2 leaves ~1e-8 relative rounding noise
          expect(ddg).toBeGreaterThanOrEqual(exact * (1 - 1e-6) - 1e-15);
          expect(ddg).toBeLessThanOrEqual((alpha / (2 * z * z)) * (1 + 1e-12)); // never worse than unsampled
        },
      ),
      { numRuns: 60 },
    );
  });

  it('subsampling amplifies: q = 0.01 is far below q = 1', () => {
    const h = (q: number) => [{ sampleRate: q, noiseMultiplier: 1, steps: 100, mechanism: mech() }];
    expect(computeEpsilon(h(0.01), 1e-5).epsilon).toBeLessThan(computeEpsilon(h(1), 1e-5).epsilon / 5);
  });

  it('a ledger with both modes composes in one call (rdp), and prv refuses DDG phases with a code', () => {
    const gaussian = { sampleRate: 0.01, noiseMultiplier: 1.1, steps: 500 };
    const ddg = { sampleRate: 0.01, noiseMultiplier: 1.0, steps: 500, mechanism: mech() };
    const both = computeEpsilon([gaussian, ddg], 1e-5);
    expect(both.epsilon).toBeGreaterThan(computeEpsilon([gaussian], 1e-5).epsilon);
    expect(both.epsilon).toBeGreaterThan(computeEpsilon([ddg], 1e-5).epsilon);
    expect(() => computeEpsilon([gaussian, ddg], 1e-5, { accountant: 'prv' })).toThrow(DpUnsupportedError);
  });

  it('guards the mechanism fields by name', () => {
    expect(() =>
      computeEpsilon([{ sampleRate: 0.1, noiseMultiplier: 1, steps: 1, mechanism: mech({ localSigma: 0.1 }) }], 1e-5),
    ).toThrow(/history\[0\]\.mechanism\.localSigma/);
    expect(() =>
      computeEpsilon([{ sampleRate: 0.1, noiseMultiplier: 1, steps: 1, mechanism: mech({ minClients: 0 }) }], 1e-5),
    ).toThrow(/mechanism\.minClients/);
    expect(() => roundedSensitivity({ l2Clip: 1, granularity: 1, dimension: 1.5, roundingBias: 0 })).toThrow(
      RangeError,
    );
  });
});
