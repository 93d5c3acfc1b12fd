/**
 * Distributed discrete Gaussian (DDG) accounting for secure aggregation.
 *
 * Kairouz, Liu, Steinke 2021, "The Distributed Discrete Gaussian Mechanism for Federated Learning with Secure
 * Aggregation", ICML (arXiv:2102.06387, cited below as [KLS21]):
 * - each contribution x (L2 norm <= c) is randomly rotated (norm preserving), scaled by 1/gamma (gamma is the
 *   grid granularity: one integer step = gamma model units) and rounded to Z^d by conditional randomized rounding
 *   with bias beta: rounding is repeated until the rounded norm is within the bound below, so the bound holds
 *   with probability 1 ([KLS21] Section 4.1, Proposition 22 in the arXiv version; Theorem 1's rounding bound);
 * - each of n clients adds independent discrete Gaussian noise N_Z(0, sigma^2) (sigma in integer units) and only
 *   the sum is released; the sum satisfies the RDP bound of [KLS21] Proposition 14 / Eq. (17) with the tau term
 *   of Theorem 1 (the sum of n discrete Gaussians is close to, but not exactly, a discrete Gaussian).
 *
 * Subsampling: Concord applies the mechanism once per DP-SGD step to a Poisson sample (rate q) of a site's
 * records. Amplification uses the general upper bound for Poisson subsampling of ANY mechanism at integer orders
 * of Zhu & Wang 2019, "Poisson Subsampled Rényi Differential Privacy", ICML (the general upper bound with the factor 3
 * on the l >= 3 terms, written out below; numbered Theorem 6 in our brief, while google-research's `distributed_dp`
 * code calls it Theorem 5: the formula, not the number, is what is implemented), taking the minimum with
 * the unsampled RDP (subsampling never hurts). This is how google-research/federated `distributed_dp` accounts
 * the same mechanism. At fractional orders the RDP at ceil(alpha) is used: Rényi divergence is non-decreasing in
 * the order (van Erven & Harremoës 2014, Theorem 3), so this is an upper bound.
 *
 * Dropouts: pass the MINIMUM number of clients whose noise is guaranteed to be in the sum. Extra noise from more
 * clients is independent of the data and is post-processing, so accounting with the minimum is conservative.
 *
 * Adjacency: add/remove one record, in one of two situations (field `neighbouring`). In both, `l2Clip` (c) bounds
 * the L2 change one record makes to the contribution BEFORE rounding.
 * - 'record' (the default): the record sits inside a contribution (e.g. a site's summed update) that is rounded
 *   AS A WHOLE, so the two rounded contributions are random and not a fixed shift of each other.
 *   - beta = 0 (plain randomized rounding): rounding y to floor(y) + [U < frac(y)], U uniform on [0, 1) and
 *     independent per coordinate, is R_U(y) = ceil(y - U). Couple the two datasets through the SAME U: for every
 *     u, R_u(y) - R_u(y') is an integer vector whose i-th entry lies in {floor(y_i - y'_i), ceil(y_i - y'_i)}, so
 *     its L2 norm is at most ||y - y'||_2 + sqrt(d) <= c/gamma + sqrt(d), exactly the beta = 0 bound of one
 *     contribution below. Each released distribution is the mixture over u of the discrete Gaussian shifted by
 *     R_u(.), with the same mixing weights, so the Rényi divergence of the mixtures is at most the largest over u
 *     (joint quasi-convexity, van Erven & Harremoës 2014, Theorem 13): the sensitivities are NOT doubled. This
 *     holds however large the contribution's own norm is (a site's sum of many clipped records); only the change
 *     matters. Clamping each coordinate to a fixed range before rounding is 1-Lipschitz and keeps the bound.
 *   - beta > 0 (conditional rounding): the rejection step depends on the whole vector and breaks that coupling.
 *     If the contribution is clipped as a whole to c, both rounded contributions lie in the ball of the rounded
 *     norm bound, so every coupling gives pairs that differ by at most 2 l2 (L2) and 2 l1 (L1): the sensitivities
 *     are doubled. (A contribution NOT clipped as a whole to c, e.g. a site's raw sum, must use beta = 0.)
 * - 'contribution': neighbouring datasets differ by one whole rounded contribution (each record clipped and rounded
 *   on its own before the site sums them, or site-level adjacency): sensitivities l2, l1 as in [KLS21].
 */
import { DpRangeError } from './errors.js';
import { requireChoice, requireInteger, requireInterval, requireObject, requirePositive } from './guards.js';
import { logAdd, logBinomial } from './log-math.js';

/** Parameters of one distributed discrete Gaussian release (all per DP-SGD step). */
export interface DistributedDiscreteGaussian {
  kind: 'distributed-discrete-gaussian';
  /** c: L2 clipping norm of one record's contribution, in model units. */
  l2Clip: number;
  /** gamma: granularity of the integer grid in model units (values are scaled by 1/gamma before rounding). */
  granularity: number;
  /** d: dimension of the rounded vector (after any padding for the random rotation). */
  dimension: number;
  /** beta in [0, 1): bias of conditional randomized rounding; 0 means plain randomized rounding (no conditioning). */
  roundingBias: number;
  /** sigma: scale of each client's discrete Gaussian N_Z(0, sigma^2), in integer (grid) units; >= 0.5. */
  localSigma: number;
  /** n: minimum number of clients whose noise is guaranteed to be in the released sum (>= 1). */
  minClients: number;
  /**
   * What neighbouring datasets change (see the module comment); default 'record' (a record inside a contribution
   * rounded as a whole: the same sensitivity as 'contribution' when roundingBias is 0, doubled when it is > 0).
   */
  neighbouring?: 'record' | 'contribution';
}

/** Validates a DDG description; `name` prefixes parameter names in errors. */
export function validateDistributedDiscreteGaussian(value: unknown, name = 'mechanism'): DistributedDiscreteGaussian {
  const m = requireObject(value, name);
  if (m.kind !== 'distributed-discrete-gaussian') {
    throw new DpRangeError(`${name}.kind must be 'distributed-discrete-gaussian', got '${String(m.kind)}'`);
  }
  requirePositive(m.l2Clip, `${name}.l2Clip`);
  requirePositive(m.granularity, `${name}.granularity`);
  requireInteger(m.dimension, `${name}.dimension`, 1);
  requireInterval(m.roundingBias, `${name}.roundingBias`, 0, 1, { max: true });
  // [KLS21] Proposition 14 assumes sigma >= 1/2.
  requireInterval(m.localSigma, `${name}.localSigma`, 0.5, Number.MAX_VALUE);
  requireInteger(m.minClients, `${name}.minClients`, 1);
  if (m.neighbouring !== undefined) requireChoice(m.neighbouring, `${name}.neighbouring`, ['record', 'contribution']);
  return m as unknown as DistributedDiscreteGaussian;
}

/**
 * Norm bounds of one conditionally rounded contribution, in integer units ([KLS21] Theorem 1 / Section 4.1):
 *   l2 = min( c/gamma + sqrt(d),  sqrt( (c/gamma)^2 + d/4 + sqrt(2 ln(1/beta)) (c/gamma + sqrt(d)/2) ) )
 * (the second bound only for beta > 0), and, since the rounded vector is an integer vector,
 *   l1 = min( sqrt(d) * l2, l2^2 ).
 * Throws DpTypeError / DpRangeError on a bad argument.
 */
export function roundedSensitivity(o: {
  l2Clip: number;
  granularity: number;
  dimension: number;
  roundingBias: number;
}): { l2: number; l1: number } {
  requireObject(o, 'options');
  const c = requirePositive(o.l2Clip, 'l2Clip');
  const gamma = requirePositive(o.granularity, 'granularity');
  const d = requireInteger(o.dimension, 'dimension', 1);
  const beta = requireInterval(o.roundingBias, 'roundingBias', 0, 1, { max: true });
  return roundedSensitivityUnchecked(c / gamma, d, beta);
}

function roundedSensitivityUnchecked(scaledNorm: number, d: number, beta: number): { l2: number; l1: number } {
  const sqrtD = Math.sqrt(d);
  let l2 = scaledNorm + sqrtD;
  if (beta > 0) {
    const squared = scaledNorm * scaledNorm + d / 4 + Math.sqrt(2 * Math.log(1 / beta)) * (scaledNorm + sqrtD / 2);
    l2 = Math.min(l2, Math.sqrt(squared));
  }
  return { l2, l1: l2 * Math.min(sqrtD, l2) };
}

/** tau = 10 * sum_{k=1}^{n-1} exp(-2 pi^2 sigma^2 k/(k+1)) ([KLS21] Theorem 1); 0 for a single client. */
export function ddgTau(localSigma: number, clients: number): number {
  requireInterval(localSigma, 'localSigma', 0.5, Number.MAX_VALUE);
  requireInteger(clients, 'clients', 1);
  let tau = 0;
  const a = 2 * Math.PI * Math.PI * localSigma * localSigma;
  for (let k = 1; k < clients; k++) tau += Math.exp((-a * k) / (k + 1));
  return 10 * tau;
}

/**
 * Unsampled RDP of one DDG release at order alpha > 1 ([KLS21] Proposition 14 / Eq. (17)), with
 * l2Scale = l2 / (sqrt(n) sigma), l1Scale = l1 / (sqrt(n) sigma):
 *   min( alpha/2 l2Scale^2 + tau d,  alpha/2 (l2Scale^2 + 2 l1Scale tau + tau^2 d),  alpha/2 (l2Scale + sqrt(d) tau)^2 ).
 */
function ddgRdpUnsampled(alpha: number, l2Scale: number, l1Scale: number, tau: number, d: number): number {
  const t1 = (alpha / 2) * l2Scale * l2Scale + tau * d;
  const t2 = (alpha / 2) * (l2Scale * l2Scale + 2 * l1Scale * tau + tau * tau * d);
  const t3 = (alpha / 2) * (l2Scale + Math.sqrt(d) * tau) ** 2;
  return Math.min(t1, t2, t3);
}

/**
 * Zhu & Wang 2019, general upper bound (see the module comment on its numbering): RDP at integer order alpha >= 2 of a mechanism with RDP eps(.) under Poisson
 * subsampling with rate q < 1, in log space:
 *   1/(alpha-1) log( (1-q)^(alpha-1) (alpha q - q + 1) + C(alpha,2) q^2 (1-q)^(alpha-2) e^{eps(2)}
 *                    + 3 sum_{l=3}^{alpha} C(alpha,l) q^l (1-q)^(alpha-l) e^{(l-1) eps(l)} ).
 */
function poissonSubsampledRdpBound(alpha: number, q: number, eps: (order: number) => number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  let s = (alpha - 1) * log1mQ + Math.log(alpha * q - q + 1);
  s = logAdd(s, logBinomial(alpha, 2) + 2 * logQ + (alpha - 2) * log1mQ + eps(2));
  for (let l = 3; l <= alpha; l++) {
    s = logAdd(s, Math.log(3) + logBinomial(alpha, l) + l * logQ + (alpha - l) * log1mQ + (l - 1) * eps(l));
  }
  return s / (alpha - 1);
}

/** Orders above this use the unsampled bound only (the Theorem 6 sum is O(alpha) terms; the optimum is far lower). */
const MAX_SUBSAMPLED_ORDER = 256;

/**
 * How much a record can move the rounded contribution, relative to one contribution's rounded bound (see the
 * module comment): 1 for whole contributions and for plain randomized rounding (shared-uniform coupling), 2 for a
 * record inside a conditionally rounded contribution.
 */
export function recordSensitivityFactor(m: Pick<DistributedDiscreteGaussian, 'neighbouring' | 'roundingBias'>): 1 | 2 {
  return m.neighbouring === 'contribution' || m.roundingBias === 0 ? 1 : 2;
}

/**
 * RDP of ONE step (Poisson sampling rate q, then one DDG release) at each order, in nats. Fractional orders use
 * ceil(alpha) (monotonicity of Rényi divergence). Returns a function of the order so callers can evaluate any grid.
 */
export function ddgStepRdp(q: number, m: DistributedDiscreteGaussian): (alpha: number) => number {
  const rounded = roundedSensitivityUnchecked(m.l2Clip / m.granularity, m.dimension, m.roundingBias);
  const factor = recordSensitivityFactor(m);
  const l2 = factor * rounded.l2;
  const l1 = factor * rounded.l1;
  const noiseScale = Math.sqrt(m.minClients) * m.localSigma;
  const l2Scale = l2 / noiseScale;
  const l1Scale = l1 / noiseScale;
  let tau = 0;
  const a = 2 * Math.PI * Math.PI * m.localSigma * m.localSigma;
  for (let k = 1; k < m.minClients; k++) tau += Math.exp((-a * k) / (k + 1));
  tau *= 10;
  const d = m.dimension;
  const eps = (order: number) => ddgRdpUnsampled(order, l2Scale, l1Scale, tau, d);
  const cache = new Map<number, number>();
  return (alpha: number) => {
    const order = Math.ceil(alpha);
    const hit = cache.get(order);
    if (hit !== undefined) return hit;
    let value = eps(order);
    if (q < 1 && order >= 2 && order <= MAX_SUBSAMPLED_ORDER) {
      value = Math.min(value, poissonSubsampledRdpBound(order, q, eps));
    }
    cache.set(order, value);
    return value;
  };
}

/**
 * Public form of `ddgStepRdp`: RDP (nats) of `steps` Poisson-subsampled DDG releases at the given orders
 * (each > 1). Throws DpTypeError / DpRangeError on a bad argument.
 */
export function distributedDiscreteGaussianRdp(o: {
  sampleRate: number;
  steps: number;
  mechanism: DistributedDiscreteGaussian;
  orders: readonly number[];
}): number[] {
  requireObject(o, 'options');
  const q = requireInterval(o.sampleRate, 'sampleRate', 0, 1, { min: true });
  const steps = requireInteger(o.steps, 'steps', 0);
  const m = validateDistributedDiscreteGaussian(o.mechanism);
  if (!Array.isArray(o.orders) || o.orders.length === 0) throw new DpRangeError('orders must be a non-empty array');
  o.orders.forEach((a, i) => requireInterval(a, `orders[${i}]`, 1, Number.MAX_VALUE, { min: true }));
  const f = ddgStepRdp(q, m);
  return o.orders.map((a) => f(a) * steps);
}
