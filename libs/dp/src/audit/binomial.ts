/** Exact binomial probabilities for the one-run audit's tail bounds, computed in log space (no underflow). */

/** log k! for k = 0..n (sums of logs: exact to rounding for the n <= 10^6 the audits use). */
function logFactorials(n: number): Float64Array {
  const lf = new Float64Array(n + 1);
  for (let k = 2; k <= n; k++) lf[k] = lf[k - 1] + Math.log(k);
  return lf;
}

/**
 * pmf[k] = P[Binomial(n, p) = k] for k = 0..n. Internal: callers validate (n a non-negative integer, p in [0, 1]).
 */
export function binomialPmf(n: number, p: number): Float64Array {
  const pmf = new Float64Array(n + 1);
  if (p <= 0) {
    pmf[0] = 1;
    return pmf;
  }
  if (p >= 1) {
    pmf[n] = 1;
    return pmf;
  }
  const lf = logFactorials(n);
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  for (let k = 0; k <= n; k++) pmf[k] = Math.exp(lf[n] - lf[k] - lf[n - k] + k * lp + (n - k) * lq);
  return pmf;
}

/** P[Binomial(n, p) >= v], summed from the small end of the tail for accuracy. */
export function binomialUpperTail(pmf: Float64Array, v: number): number {
  let s = 0;
  for (let k = pmf.length - 1; k >= Math.max(0, v); k--) s += pmf[k];
  return Math.min(1, s);
}
