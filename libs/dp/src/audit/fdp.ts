/**
 * One-run auditing of f-DP: Mahloujifar, Melis and Chaudhuri, "Auditing f-Differential Privacy in One Run"
 * (ICML 2025, arXiv 2410.22235), [MMC25] below, instantiated with the Gaussian family f = G_mu (mu-GDP).
 *
 * Same experiment as [SNJ23] (m canaries, coins, r guesses of which v are correct), but the null hypothesis is
 * "the mechanism is f-DP" instead of "(eps, delta)-DP", which uses the whole trade-off curve instead of one
 * point of it and so gives tighter bounds from the same guesses. The test is the paper's recursion for an
 * adversary with a cap on the number of guesses (the "r, h" recursion of its guessing-game analysis, as in the
 * authors' reference implementation, reproduced in Meta's PrivacyGuard `fdp_analysis_node.py`): with tau the
 * failure probability and k = 2 (membership: include/exclude),
 *
 *   h_v = tau (r/m) (r - v)/r,  r_v = tau (r/m) v/r,
 *   for i = v-1 .. 0:  h_i = max(h_{i+1}, (k-1) f^-1-blowup(r_{i+1})),  r_i = r_{i+1} + i/(r - i) (h_i - h_{i+1}),
 *
 * with the inverse blow-up of G_mu being x -> Phi(Phi^-1(x) - mu). G_mu is rejected (the mechanism is NOT mu-GDP)
 * when r_0 + h_0 > r/m. The lower bound is the largest rejected mu (bisection; rejection is monotone in mu), and
 * it is reported as the (eps, delta) of mu-GDP at the audit's delta.
 *
 * Rigour: the rejection of mu-GDP holds at confidence 1 - tau for ANY mechanism (the theorem of [MMC25]), with the
 * guess counts fixed in advance or Bonferroni-corrected. The eps reported beside it is that of the rejected
 * Gaussian curve: it says "the mechanism is not as private as mu*-GDP, whose eps at delta is eps*". It is a
 * statement about the claim read as a GDP curve (which the CLT makes accurate for many-step DP-SGD, Dong et al.
 * 2022 Theorem 3.5); it is not a rigorous rejection of the single (eps, delta) point the accountant charged.
 */
import { requireInteger, requireInterval } from '../guards.js';
import { gdpEpsilon } from './gdp.js';
import { normalCdf, normalQuantile } from './normal.js';

function rejectsGdp(mu: number, m: number, guesses: number, correct: number, tau: number): boolean {
  const inverseBlowUp = (x: number) => (x <= 0 ? 0 : x >= 1 ? 1 : normalCdf(normalQuantile(x) - mu));
  const scale = (tau * guesses) / m;
  let h = (scale * (guesses - correct)) / guesses;
  let r = (scale * correct) / guesses;
  for (let i = correct - 1; i >= 0; i--) {
    const hNext = Math.max(h, inverseBlowUp(r));
    r += (i / (guesses - i)) * (hNext - h);
    h = hNext;
  }
  return r + h > guesses / m;
}

/**
 * Lower bound on mu (mu-GDP) from one run, and its epsilon at `delta` ([MMC25], Gaussian family, k = 2).
 * Returns mu = 0 and epsilon = 0 when no mu > 0 is rejected.
 * @throws DpTypeError / DpRangeError unless 1 <= guesses <= canaries, 0 <= correct <= guesses, delta in (0, 1),
 *   failureProbability in (0, 1).
 */
export function fdpGaussianLowerBound(o: {
  canaries: number;
  guesses: number;
  correct: number;
  delta: number;
  failureProbability: number;
}): { mu: number; epsilon: number } {
  const m = requireInteger(o?.canaries, 'canaries', 1, 10_000_000);
  const guesses = requireInteger(o.guesses, 'guesses', 1, m);
  const correct = requireInteger(o.correct, 'correct', 0, guesses);
  const delta = requireInterval(o.delta, 'delta', 0, 1, { min: true, max: true });
  const tau = requireInterval(o.failureProbability, 'failureProbability', 0, 1, { min: true, max: true });
  const MU_MIN = 1e-4;
  const MU_MAX = 40;
  if (!rejectsGdp(MU_MIN, m, guesses, correct, tau)) return { mu: 0, epsilon: 0 };
  let lo = MU_MIN;
  let hi = MU_MAX;
  if (rejectsGdp(hi, m, guesses, correct, tau)) lo = hi;
  while (hi - lo > 1e-6) {
    const mid = (lo + hi) / 2;
    if (rejectsGdp(mid, m, guesses, correct, tau)) lo = mid;
    else hi = mid;
  }
  return { mu: lo, epsilon: gdpEpsilon(lo, delta) };
}
