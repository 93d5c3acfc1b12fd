/**
 * Gaussian trade-off curves for the audit analyses: mu-GDP (Dong, Roth, Su 2022, "Gaussian Differential Privacy",
 * JRSS-B, Corollary 2.13) and the hockey-stick divergence between two arbitrary normal distributions.
 *
 *   mu-GDP is (eps, delta(eps))-DP for every eps >= 0 with delta(eps) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2).
 *
 * All epsilons in nats.
 */
import { logNormalCdf } from '../log-math.js';
import { requireInterval } from '../guards.js';
import { normalCdf } from './normal.js';

/** delta(eps) of mu-GDP ([DRS22] Corollary 2.13); e^eps Phi(.) is taken in log space so large eps cannot overflow. */
export function gdpDelta(mu: number, epsilon: number): number {
  requireInterval(mu, 'mu', 0, 1e6);
  requireInterval(epsilon, 'epsilon', 0, 1e6);
  if (mu === 0) return 0;
  const a = normalCdf(-epsilon / mu + mu / 2);
  const b = Math.exp(epsilon + logNormalCdf(-epsilon / mu - mu / 2));
  return Math.max(0, a - b);
}

/** Smallest eps with delta(eps) <= delta for mu-GDP (bisection to 1e-9 relative), 0 when mu = 0. */
export function gdpEpsilon(mu: number, delta: number): number {
  requireInterval(mu, 'mu', 0, 1e6);
  requireInterval(delta, 'delta', 0, 1, { min: true, max: true });
  return epsilonAtDelta((e) => gdpDelta(mu, e), delta);
}

/** Bisection on a non-increasing delta(eps): the smallest eps >= 0 with delta(eps) <= delta. */
export function epsilonAtDelta(deltaOf: (eps: number) => number, delta: number): number {
  if (deltaOf(0) <= delta) return 0;
  let lo = 0;
  let hi = 1;
  while (deltaOf(hi) > delta && hi < 1e5) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-9 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (deltaOf(mid) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** P[a < X < b] for X ~ N(m, s^2), taken from the nearer tail so that tiny probabilities keep their digits. */
function normalInterval(a: number, b: number, m: number, s: number): number {
  if (!(b > a)) return 0;
  const za = (a - m) / s;
  const zb = (b - m) / s;
  if (za > 0) return normalCdf(-za) - normalCdf(-zb);
  return normalCdf(zb) - normalCdf(za);
}

/**
 * Hockey-stick divergence H_{e^eps}(P || Q) = integral of (p - e^eps q)_+ for P = N(m1, s1^2), Q = N(m0, s0^2):
 * the smallest delta for which the pair (P, Q) satisfies the (eps, delta)-DP inequality in this direction. The
 * region where log p - log q > eps is the solution set of a quadratic, so the integral is a sum of normal CDFs.
 */
export function gaussianHockeyStick(
  p: { mean: number; sd: number },
  q: { mean: number; sd: number },
  epsilon: number,
): number {
  const m1 = requireInterval(p?.mean, 'p.mean', -1e300, 1e300);
  const s1 = requireInterval(p.sd, 'p.sd', 0, 1e300, { min: true });
  const m0 = requireInterval(q?.mean, 'q.mean', -1e300, 1e300);
  const s0 = requireInterval(q.sd, 'q.sd', 0, 1e300, { min: true });
  const eps = requireInterval(epsilon, 'epsilon', 0, 1e6);
  const a = 1 / (2 * s0 * s0) - 1 / (2 * s1 * s1);
  const b = m1 / (s1 * s1) - m0 / (s0 * s0);
  const c = (m0 * m0) / (2 * s0 * s0) - (m1 * m1) / (2 * s1 * s1) + Math.log(s0 / s1) - eps;
  const intervals: [number, number][] = [];
  if (Math.abs(a) <= 1e-12 * (1 / (s0 * s0) + 1 / (s1 * s1))) {
    if (b > 0) intervals.push([-c / b, Infinity]);
    else if (b < 0) intervals.push([-Infinity, -c / b]);
    else if (c > 0) intervals.push([-Infinity, Infinity]);
  } else {
    const disc = b * b - 4 * a * c;
    if (disc <= 0) {
      if (a > 0) intervals.push([-Infinity, Infinity]);
    } else {
      const r = Math.sqrt(disc);
      // Stable roots (no cancellation between b and r).
      const t = -(b + Math.sign(b || 1) * r) / 2;
      const x1 = Math.min(t / a, c / t);
      const x2 = Math.max(t / a, c / t);
      if (a > 0) intervals.push([-Infinity, x1], [x2, Infinity]);
      else intervals.push([x1, x2]);
    }
  }
  let pMass = 0;
  let qMass = 0;
  for (const [lo, hi] of intervals) {
    pMass += normalInterval(lo, hi, m1, s1);
    qMass += normalInterval(lo, hi, m0, s0);
  }
  return Math.max(0, pMass - Math.exp(eps) * qMass);
}
