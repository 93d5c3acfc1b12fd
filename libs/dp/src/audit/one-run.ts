/**
 * The one-run privacy audit of Steinke, Nasr and Jagielski, "Privacy Auditing with One (1) Training Run"
 * (NeurIPS 2023, arXiv 2305.08846), [SNJ23] below.
 *
 * Setting ([SNJ23] Algorithm 1): m canaries, each included independently with probability 1/2 by a secret coin
 * S_i in {-1, +1}. After training the auditor makes r guesses (T_i in {-1, +1}, abstaining on the other m - r)
 * and counts v correct ones. If the mechanism is (eps, delta)-DP, the number of correct guesses is dominated by
 * Binomial(r, e^eps / (1 + e^eps)) up to a delta term ([SNJ23] Theorem 5.2 / Proposition 5.7); the p-value is the
 * paper's appendix code `p_value_DP_audit`:
 *
 *   p(eps) = P[Binomial(r, q) >= v] + 2 m delta max_{1 <= i <= v} P[v - i <= Binomial(r, q) < v] / i,
 *   q = 1 / (1 + e^-eps),
 *
 * and the lower bound at confidence 1 - beta is the largest eps whose p-value is below beta (`get_eps_audit`,
 * found here by bisection to 1e-6 instead of the paper's 30 halvings of [0, ceil]). This is RIGOROUS: for any
 * (eps, delta)-DP mechanism, the reported bound exceeds eps with probability at most beta, provided the guesses
 * (how many, which rule) are fixed before the scores are seen or a sweep over them is Bonferroni-corrected
 * (`guesses.ts`).
 */
import { DpRangeError } from '../errors.js';
import { requireInteger, requireInterval } from '../guards.js';
import { binomialPmf, binomialUpperTail } from './binomial.js';

function checkCounts(m: unknown, r: unknown, v: unknown): { m: number; r: number; v: number } {
  const mm = requireInteger(m, 'canaries', 1, 10_000_000);
  const rr = requireInteger(r, 'guesses', 0, mm);
  const vv = requireInteger(v, 'correct', 0, rr);
  return { m: mm, r: rr, v: vv };
}

function pValueUnchecked(m: number, r: number, v: number, eps: number, delta: number): number {
  const q = 1 / (1 + Math.exp(-eps));
  const pmf = binomialPmf(r, q);
  const beta = binomialUpperTail(pmf, v);
  let alpha = 0;
  let sum = 0;
  for (let i = 1; i <= v; i++) {
    sum += pmf[v - i];
    if (sum > i * alpha) alpha = sum / i;
  }
  return Math.min(1, beta + alpha * delta * 2 * m);
}

/**
 * [SNJ23] p-value: probability of at least `correct` right guesses out of `guesses` under the null hypothesis
 * that the mechanism is (epsilon, delta)-DP, with `canaries` canaries each included with probability 1/2.
 * @throws DpTypeError / DpRangeError unless 0 <= correct <= guesses <= canaries, epsilon >= 0, delta in [0, 1].
 */
export function oneRunPValue(o: {
  canaries: number;
  guesses: number;
  correct: number;
  epsilon: number;
  delta: number;
}): number {
  const { m, r, v } = checkCounts(o?.canaries, o?.guesses, o?.correct);
  const eps = requireInterval(o.epsilon, 'epsilon', 0, 700);
  const delta = requireInterval(o.delta, 'delta', 0, 1);
  return pValueUnchecked(m, r, v, eps, delta);
}

/** Upper end of the search: beyond e^-eps ~ 1e-300 every guess is "certain" and the tail no longer moves. */
const EPS_CEILING = 690;

/**
 * [SNJ23] lower bound on epsilon at confidence 1 - `failureProbability`: the largest eps (to 1e-6) with
 * p-value(eps) < failureProbability, 0 when even eps = 0 cannot be rejected.
 * @throws DpRangeError for counts out of range, delta outside [0, 1) or failureProbability outside (0, 1).
 */
export function oneRunEpsilonLowerBound(o: {
  canaries: number;
  guesses: number;
  correct: number;
  delta: number;
  failureProbability: number;
}): number {
  const { m, r, v } = checkCounts(o?.canaries, o?.guesses, o?.correct);
  const delta = requireInterval(o.delta, 'delta', 0, 1, { max: true });
  const beta = requireInterval(o.failureProbability, 'failureProbability', 0, 1, { min: true, max: true });
  if (pValueUnchecked(m, r, v, 0, delta) >= beta) return 0;
  let lo = 0;
  let hi = 1;
  while (hi < EPS_CEILING && pValueUnchecked(m, r, v, hi, delta) < beta) {
    lo = hi;
    hi *= 2;
  }
  if (hi >= EPS_CEILING) {
    hi = EPS_CEILING;
    if (pValueUnchecked(m, r, v, hi, delta) < beta)
      throw new DpRangeError('epsilon lower bound exceeds the search range');
  }
  while (hi - lo > 1e-6) {
    const mid = (lo + hi) / 2;
    if (pValueUnchecked(m, r, v, mid, delta) < beta) lo = mid;
    else hi = mid;
  }
  return lo;
}
