/**
 * The Gaussian-pair audit ("Let's Ask Gauss", Agrawal et al., arXiv 2606.12733, 2026, as described in Concord
 * issue 19; the paper's text was not available to us, so this implements the described method): model the
 * scores of the included and the excluded canaries as two normal distributions, fitted by their sample means and
 * variances, and read epsilon from the hockey-stick divergence between them at the audit's delta.
 *
 * Two figures are returned:
 * - `estimate`: the point estimate, eps at delta of the fitted pair N(m1, s1^2) vs N(m0, s0^2), the larger of the
 *   two directions (gdp.ts `gaussianHockeyStick`). Unequal variances make the log-likelihood ratio quadratic, so
 *   this number is sensitive to the fitted tails: a diagnostic, not a bound.
 * - `epsilon`: an asymptotic lower confidence bound. The standardised gap d = (m1 - m0) / s_pooled (the pair's
 *   mu as a GDP curve when the variances agree) has the large-sample standard error
 *   sqrt(1/n1 + 1/n0 + d^2 / (2 (n1 + n0 - 2))) (Hedges and Olkin 1985, section 5.B); eps is that of
 *   (d - z_{1-beta} se)-GDP at delta.
 *
 * NOT RIGOROUS: both rest on the scores being (close to) Gaussian, on the CLT for the standard error, and on the
 * Gaussian tails extrapolating to delta ~ 1e-5, far beyond what m canaries can observe. For DP-SGD with the
 * white-box sum score the Gaussian model is close (the score is a sum of many Gaussian noise draws plus a binomial
 * count), which is why it is reported; for other mechanisms it can over- or under-state.
 */
import { DpRangeError, DpTypeError } from '../errors.js';
import { requireInterval } from '../guards.js';
import { epsilonAtDelta, gaussianHockeyStick, gdpEpsilon } from './gdp.js';
import { normalQuantile } from './normal.js';

export interface GaussianPairResult {
  /** asymptotic lower confidence bound on eps (equal-variance model) */
  epsilon: number;
  /** point estimate of eps from the fitted pair (unequal variances) */
  estimate: number;
  /** standardised gap d and its lower confidence limit */
  mu: number;
  muLower: number;
  included: { count: number; mean: number; sd: number };
  excluded: { count: number; mean: number; sd: number };
}

function moments(values: number[]): { count: number; mean: number; sd: number } {
  const n = values.length;
  let mean = 0;
  for (const v of values) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return { count: n, mean, sd: Math.sqrt(ss / (n - 1)) };
}

/**
 * @param o.scores one score per canary (higher = more likely included)
 * @param o.included the secret coins
 * Zero variance on one side gives `estimate` = Infinity (a point mass against a continuous law); zero variance on
 * both gives Infinity everywhere when the means differ.
 * @throws DpTypeError for non-arrays, DpRangeError for mismatched lengths, non-finite scores, fewer than 2
 *   canaries on either side, delta outside (0, 1) or confidence outside (0, 1).
 */
export function gaussianPairAudit(o: {
  scores: ArrayLike<number>;
  included: ArrayLike<boolean>;
  delta: number;
  confidence: number;
}): GaussianPairResult {
  if (typeof o !== 'object' || o === null) throw new DpTypeError('options must be an object');
  const { scores, included } = o;
  if (scores === null || typeof scores !== 'object' || typeof scores.length !== 'number')
    throw new DpTypeError('scores must be an array');
  if (included === null || typeof included !== 'object' || typeof included.length !== 'number')
    throw new DpTypeError('included must be an array');
  if (scores.length !== included.length) throw new DpRangeError('scores and included must have the same length');
  const delta = requireInterval(o.delta, 'delta', 0, 1, { min: true, max: true });
  const confidence = requireInterval(o.confidence, 'confidence', 0, 1, { min: true, max: true });
  const inc: number[] = [];
  const exc: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (typeof s !== 'number' || !Number.isFinite(s)) throw new DpRangeError(`scores[${i}] must be a finite number`);
    (included[i] ? inc : exc).push(s);
  }
  if (inc.length < 2 || exc.length < 2) throw new DpRangeError('need at least 2 included and 2 excluded canaries');
  const a = moments(inc);
  const b = moments(exc);
  if (!(a.sd > 0 && b.sd > 0)) {
    // A point mass on one side (e.g. a mechanism with its noise removed): no Gaussian fits it. If the two sides
    // still overlap the pooled model below is used for both figures; if neither side varies, the gap is infinite.
    const pooled0 = Math.hypot(a.sd, b.sd);
    if (!(pooled0 > 0)) {
      const inf = a.mean === b.mean ? 0 : Infinity;
      return { epsilon: inf, estimate: inf, mu: inf, muLower: inf, included: a, excluded: b };
    }
  }
  const pooled = Math.sqrt(((a.count - 1) * a.sd ** 2 + (b.count - 1) * b.sd ** 2) / (a.count + b.count - 2));
  const d = (a.mean - b.mean) / pooled;
  const se = Math.sqrt(1 / a.count + 1 / b.count + (d * d) / (2 * (a.count + b.count - 2)));
  const muLower = Math.max(0, d - normalQuantile(confidence) * se);
  const p = { mean: a.mean, sd: a.sd };
  const q = { mean: b.mean, sd: b.sd };
  const estimate = !(a.sd > 0 && b.sd > 0)
    ? Infinity
    : epsilonAtDelta((eps) => Math.max(gaussianHockeyStick(p, q, eps), gaussianHockeyStick(q, p, eps)), delta);
  return {
    epsilon: gdpEpsilon(Math.min(muLower, 1e6), delta),
    estimate,
    mu: d,
    muLower,
    included: a,
    excluded: b,
  };
}
