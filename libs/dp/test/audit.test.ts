import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analyseAudit,
  countGuesses,
  defaultGuessSweep,
  fdpGaussianLowerBound,
  gaussianHockeyStick,
  gaussianPairAudit,
  gdpDelta,
  gdpEpsilon,
  normalQuantile,
  oneRunEpsilonLowerBound,
  oneRunPValue,
  rankScores,
} from '@concord/dp';
import { simpson } from './helpers.js';

// Known answers: the appendix code of Steinke, Nasr, Jagielski 2023 (`p_value_DP_audit`, `get_eps_audit` with
// 50 halvings) and the f-DP recursion of Mahloujifar, Melis, Chaudhuri 2025 (as in Meta PrivacyGuard
// fdp_analysis_node.py, bisection on mu), both run with SciPy 1.17.1.
const P_VALUES: [number, number, number, number, number, number][] = [
  [1000, 100, 90, 1.0, 1e-5, 0.0008412885614385305],
  [1000, 100, 100, 3.0, 0, 0.007760293235863748],
  [1000, 200, 150, 0.5, 1e-5, 0.0006212078358387146],
  [200, 40, 35, 2.0, 1e-5, 0.6600605010992293],
  [1000, 1000, 600, 0.2, 0, 0.0007652334289671225],
];
const LOWER_BOUNDS: [number, number, number, number, number][] = [
  [1000, 100, 100, 0, 3.4929654311522924],
  [1000, 100, 100, 1e-5, 3.465376347811045],
  [1000, 1000, 1000, 1e-5, 5.78228313539401],
  [1000, 200, 180, 1e-5, 1.7962850706709332],
  [1000, 500, 350, 1e-5, 0.682725826723142],
  [100, 10, 10, 1e-5, 1.0482370591291215],
];
const FDP_MU: [number, number, number, number][] = [
  [1000, 500, 800, 0.20104754228759558],
  [1000, 100, 100, 1.2255334152620287],
  [1000, 180, 200, 0.698200967374444],
  [200, 38, 40, 0.7197370402669534],
  [1000, 90, 100, 0.6025035652458669],
];

/** Deterministic normal draws (xorshift + Box-Muller) for the simulated audits. */
function gaussians(seed: number) {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 2 ** 32;
  };
  return { u, z: () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()) };
}

/** m canaries of a mu-GDP mechanism: score ~ N(mu, 1) if included, N(0, 1) if not. */
function simulate(m: number, mu: number, seed: number) {
  const g = gaussians(seed);
  const included: boolean[] = [];
  const scores: number[] = [];
  for (let i = 0; i < m; i++) {
    const inc = g.u() < 0.5;
    included.push(inc);
    scores.push(g.z() + (inc ? mu : 0));
  }
  return { scores, included };
}

describe('one-run audit (Steinke, Nasr, Jagielski 2023)', () => {
  it('p-values match the paper code', () => {
    for (const [canaries, guesses, correct, epsilon, delta, p] of P_VALUES) {
      expect(oneRunPValue({ canaries, guesses, correct, epsilon, delta })).toBeCloseTo(p, 12);
    }
  });

  it('lower bounds match the paper code', () => {
    for (const [canaries, guesses, correct, delta, eps] of LOWER_BOUNDS) {
      const e = oneRunEpsilonLowerBound({ canaries, guesses, correct, delta, failureProbability: 0.05 });
      expect(Math.abs(e - eps)).toBeLessThan(2e-6);
    }
  });

  it('all-correct guesses with delta 0: closed form q^r = beta, eps = -ln(beta^(-1/r) - 1)', () => {
    for (const r of [5, 20, 100, 400]) {
      const e = oneRunEpsilonLowerBound({ canaries: 1000, guesses: r, correct: r, delta: 0, failureProbability: 0.05 });
      expect(e).toBeCloseTo(-Math.log(0.05 ** (-1 / r) - 1), 5);
    }
  });

  it('chance-level guessing gives 0', () => {
    expect(
      oneRunEpsilonLowerBound({ canaries: 1000, guesses: 200, correct: 100, delta: 1e-5, failureProbability: 0.05 }),
    ).toBe(0);
  });

  it('more correct guesses never lower the bound', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 299 }), (r, v0) => {
        const v = Math.min(v0, r - 1);
        const b = (c: number) =>
          oneRunEpsilonLowerBound({ canaries: 1000, guesses: r, correct: c, delta: 1e-5, failureProbability: 0.05 });
        expect(b(v + 1)).toBeGreaterThanOrEqual(b(v) - 1e-9);
      }),
      { numRuns: 40 },
    );
  });

  it('rejects bad input with typed errors', () => {
    expect(() => oneRunPValue({ canaries: 10, guesses: 11, correct: 1, epsilon: 1, delta: 0 })).toThrow(RangeError);
    expect(() => oneRunPValue({ canaries: 10, guesses: 5, correct: 6, epsilon: 1, delta: 0 })).toThrow(RangeError);
    expect(() => oneRunPValue({ canaries: 10, guesses: 5, correct: 1, epsilon: -1, delta: 0 })).toThrow(RangeError);
    expect(() =>
      oneRunPValue({ canaries: '10' as unknown as number, guesses: 5, correct: 1, epsilon: 1, delta: 0 }),
    ).toThrow(TypeError);
    expect(() =>
      oneRunEpsilonLowerBound({ canaries: 10, guesses: 5, correct: 5, delta: 0, failureProbability: 0 }),
    ).toThrow(expect.objectContaining({ code: 'E_DP_RANGE' }));
  });
});

describe('f-DP one-run audit (Mahloujifar, Melis, Chaudhuri 2025)', () => {
  it('mu lower bounds match the reference recursion', () => {
    for (const [canaries, correct, guesses, mu] of FDP_MU) {
      const r = fdpGaussianLowerBound({ canaries, guesses, correct, delta: 1e-5, failureProbability: 0.05 });
      expect(Math.abs(r.mu - mu)).toBeLessThan(1e-5);
      expect(r.epsilon).toBeCloseTo(gdpEpsilon(r.mu, 1e-5), 9);
    }
  });

  it('is at least as tight as the (eps, delta) analysis on the same guesses', () => {
    for (const [canaries, guesses, correct] of [
      [1000, 100, 100],
      [1000, 200, 180],
      [1000, 500, 350],
    ]) {
      const base = { canaries, guesses, correct, delta: 1e-5, failureProbability: 0.05 };
      expect(fdpGaussianLowerBound(base).epsilon).toBeGreaterThanOrEqual(oneRunEpsilonLowerBound(base));
    }
  });

  it('chance-level guessing gives 0', () => {
    const r = fdpGaussianLowerBound({
      canaries: 1000,
      guesses: 200,
      correct: 100,
      delta: 1e-5,
      failureProbability: 0.05,
    });
    expect(r).toEqual({ mu: 0, epsilon: 0 });
  });
});

describe('Gaussian curves', () => {
  it('mu-GDP epsilon at delta 1e-5 matches SciPy', () => {
    expect(gdpEpsilon(0.5, 1e-5)).toBeCloseTo(1.9930914044151173, 7);
    expect(gdpEpsilon(1, 1e-5)).toBeCloseTo(4.377178095681225, 7);
    expect(gdpEpsilon(2, 1e-5)).toBeCloseTo(9.997256146434298, 7);
    expect(gdpDelta(1, 1)).toBeCloseTo(0.12693673750664392, 12);
  });

  it('normal quantile matches SciPy', () => {
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 10);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536269514722, 12);
    expect(normalQuantile(0.3)).toBeCloseTo(-0.5244005127080409, 12);
  });

  it('hockey-stick of two equal-variance normals is mu-GDP', () => {
    for (const mu of [0.3, 1, 2.5]) {
      for (const eps of [0, 0.5, 2, 5]) {
        const h = gaussianHockeyStick({ mean: mu * 3, sd: 3 }, { mean: 0, sd: 3 }, eps);
        expect(h).toBeCloseTo(gdpDelta(mu, eps), 10);
      }
    }
  });

  it('hockey-stick with unequal variances matches numerical integration', () => {
    const pdf = (x: number, m: number, s: number) => Math.exp(-0.5 * ((x - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));
    for (const [m1, s1, m0, s0, eps] of [
      [1, 1.3, 0, 1, 0.5],
      [0.5, 0.8, 0, 1, 1],
      [2, 2, -1, 1.5, 2],
    ]) {
      const exact = gaussianHockeyStick({ mean: m1, sd: s1 }, { mean: m0, sd: s0 }, eps);
      const numeric = simpson((x) => Math.max(0, pdf(x, m1, s1) - Math.exp(eps) * pdf(x, m0, s0)), -40, 40, 200_000);
      expect(exact).toBeCloseTo(numeric, 8);
    }
  });
});

describe('guesses and the combined analysis', () => {
  it('counts top and bottom guesses against the coins', () => {
    const order = rankScores([0.1, 5, -3, 2, 0]);
    expect([...order]).toEqual([1, 3, 0, 4, 2]);
    const c = countGuesses(order, [false, true, false, false, true], 2, 1);
    expect(c).toEqual({ kPlus: 2, kMinus: 1, guesses: 3, correct: 2 });
    expect(() => countGuesses(order, [true], 1, 1)).toThrow(RangeError);
    expect(() => countGuesses(order, [true, true, true, true, true], 3, 3)).toThrow(RangeError);
    expect(() => rankScores([1, Number.NaN])).toThrow(RangeError);
  });

  it('default sweep is fixed by m alone', () => {
    expect(defaultGuessSweep(1000).map((s) => s.kPlus)).toEqual([5, 10, 25, 50, 100, 150, 250]);
  });

  it('on a simulated mu-GDP mechanism no rigorous bound exceeds the true eps more often than 5% allows', () => {
    // 40 audits of 1-GDP (true eps at 1e-5: 4.377); the chance that >= 6 of 40 exceed at 5% each is < 0.05.
    const trueEps = gdpEpsilon(1, 1e-5);
    let over = 0;
    let overFdp = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const { scores, included } = simulate(1000, 1, seed);
      const a = analyseAudit({ scores, included, delta: 1e-5, confidence: 0.95 });
      if (a.oneRun.epsilon > trueEps) over++;
      if (a.fdp.epsilon > trueEps) overFdp++;
      expect(a.oneRun.epsilon).toBeGreaterThan(0.3);
      expect(a.fdp.epsilon).toBeGreaterThanOrEqual(a.oneRun.epsilon * 0.9);
    }
    expect(over).toBeLessThan(6);
    expect(overFdp).toBeLessThan(6);
  });

  it('a perfectly separated audit gives large bounds; an unrelated score gives ~0', () => {
    const { scores, included } = simulate(1000, 50, 7);
    const strong = analyseAudit({ scores, included, delta: 1e-5, confidence: 0.95 });
    expect(strong.oneRun.epsilon).toBeGreaterThan(4.4);
    expect(strong.fdp.epsilon).toBeGreaterThan(strong.oneRun.epsilon);
    const noise = simulate(1000, 0, 8);
    const weak = analyseAudit({ ...noise, delta: 1e-5, confidence: 0.95 });
    expect(weak.oneRun.epsilon).toBeLessThan(0.5);
    expect(weak.gaussianPair.epsilon).toBeLessThan(0.5);
  });

  it('Gaussian pair recovers mu on large samples', () => {
    const { scores, included } = simulate(20000, 1, 3);
    const r = gaussianPairAudit({ scores, included, delta: 1e-5, confidence: 0.95 });
    expect(r.mu).toBeGreaterThan(0.95);
    expect(r.mu).toBeLessThan(1.05);
    expect(r.muLower).toBeLessThan(r.mu);
    expect(r.estimate).toBeGreaterThan(3);
    expect(() =>
      gaussianPairAudit({ scores: [1, 2, 3], included: [true, true, false], delta: 1e-5, confidence: 0.95 }),
    ).toThrow(RangeError);
  });
});
