/**
 * The collusion bound of SecAgg+ (docs/threat-model.md, "The collusion bound", has the derivation).
 *
 * Model: the aggregator is actively malicious and at most c members of each cohort collude with it. A client u's
 * two secrets (self-mask seed b_u and masking key s_u) are each Shamir-shared t-of-(k+1) among its k neighbours and
 * itself. To learn u's input the server needs t shares of b_u, from holders shown "u survived", AND t shares of
 * s_u, from holders shown "u dropped". An honest holder answers only one kind (the survivor set it signed), so the
 * server needs two disjoint groups of honest holders of at least t - c each among the k + 1 - c honest ones:
 * possible exactly when 2 (t - c) <= k + 1 - c, i.e. c >= 2t - (k + 1). The guarantee therefore holds iff
 *
 *   2t - (k + 1) > c.
 *
 * Bell et al. (CCS 2020, §3-4) state the same condition per neighbourhood; Bonawitz et al. (CCS 2017, §6.2) the
 * complete-graph case. Concord declares c per cohort (`secureAggregation.maxColluders`, default
 * {@link DEFAULT_MAX_COLLUDERS}), chooses t from it, and every agent re-checks the bound with the c it pinned.
 */

/** The default c: one cohort member may collude with the aggregator. */
export const DEFAULT_MAX_COLLUDERS = 1;

/** A (k, t, c) that does not satisfy 2t - (k + 1) > c, or a cohort too small for the declared c. */
export class CollusionBoundError extends RangeError {
  readonly code = 'E_COLLUSION_BOUND' as const;
  constructor(message: string) {
    super(message);
    this.name = 'CollusionBoundError';
  }
}

function requireInt(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** 2t - (k + 1): the smallest number of colluding holders that can unmask one client (Bell et al. §4). */
export function collusionMargin(neighbours: number, threshold: number): number {
  requireInt(neighbours, 'neighbours', 1);
  requireInt(threshold, 'threshold', 1);
  return 2 * threshold - (neighbours + 1);
}

/** Throws CollusionBoundError unless t <= k + 1 and 2t - (k + 1) > c. */
export function assertCollusionBound(shape: { neighbours: number; threshold: number }, maxColluders: number): void {
  requireInt(maxColluders, 'maxColluders', 0);
  const { neighbours: k, threshold: t } = shape;
  if (t > k + 1) throw new CollusionBoundError(`threshold ${t} exceeds neighbours + 1 = ${k + 1}`);
  const margin = collusionMargin(k, t);
  if (margin <= maxColluders) {
    throw new CollusionBoundError(
      `2t-(k+1) = ${margin} with t=${t}, k=${k}: ${margin} colluders could unmask a site, and up to ${maxColluders} are allowed`,
    );
  }
}

/** Graph degree before the collusion bound: complete graph up to 8 sites, then about 2 log2 n (even). */
function defaultNeighbours(n: number): number {
  if (n <= 8) return n - 1;
  let k = Math.min(n - 1, 2 * Math.ceil(Math.log2(n)) + 2);
  if (k !== n - 1 && k % 2 === 1) k += 1;
  return k >= n - 1 ? n - 1 : k;
}

/**
 * SecAgg+ degree k and threshold t for a cohort of n with at most c colluders: k as given, else about 2 log2 n
 * (complete up to 8 sites); t as given, else the smallest t with 2t - (k + 1) > c, i.e. floor((k + 1 + c) / 2) + 1
 * (and at least 2). When the default k cannot hold that t (t > k + 1), k grows (by 2, or to n - 1).
 * @throws CollusionBoundError when no k <= n - 1 (or the given k, t) satisfies the bound.
 */
export function collusionSafeShape(
  n: number,
  maxColluders: number,
  given: { neighbours?: number; threshold?: number } = {},
): { neighbours: number; threshold: number } {
  requireInt(n, 'cohort size', 2);
  requireInt(maxColluders, 'maxColluders', 0);
  const thresholdFor = (k: number) => given.threshold ?? Math.max(2, Math.floor((k + 1 + maxColluders) / 2) + 1);
  let k: number;
  if (given.neighbours !== undefined) {
    k = Math.min(requireInt(given.neighbours, 'neighbours', 1), n - 1);
    if (k !== n - 1 && k % 2 === 1) throw new RangeError(`neighbours must be even or n-1, got ${given.neighbours}`);
  } else {
    k = defaultNeighbours(n);
    while (k < n - 1 && thresholdFor(k) > k + 1) k = Math.min(n - 1, k + 2);
  }
  const shape = { neighbours: k, threshold: thresholdFor(k) };
  if (shape.threshold > k + 1) {
    throw new CollusionBoundError(
      `a cohort of ${n} with neighbours ${k} cannot tolerate ${maxColluders} colluders (threshold ${shape.threshold} > ${k + 1})`,
    );
  }
  assertCollusionBound(shape, maxColluders);
  return shape;
}
