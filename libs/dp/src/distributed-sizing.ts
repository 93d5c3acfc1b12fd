/**
 * How a site sizes its share of the distributed discrete Gaussian noise when up to `maxColluders` (c) cohort
 * members collude with the aggregator (docs/threat-model.md, "The collusion bound").
 *
 * Kairouz, Liu, Steinke 2021 (ICML, Algorithm 2): each of the sites in the released sum adds N_Z(0, sigma^2); the
 * sum of m independent shares has variance m sigma^2. SecAgg+ releases a sum only when at least t (the threshold)
 * sites survive, and every agent refuses a signed survivor set with fewer than t members, so at least t sites'
 * shares are in any released sum. Up to c of them may be colluders, who know (and can subtract) their own shares,
 * or simply add none: only t - c shares are guaranteed to be honest. Sizing each share as
 *
 *   sigma^2 = (z C 2^s)^2 / (t - c)
 *
 * makes the honest part of any released sum carry at least the central variance (z C 2^s)^2 the round is charged
 * for (`minClients = t - c` in the DDG accounting). Sizing for t instead (as Concord did before) leaves a sum whose
 * colluding members removed their shares with only (t - c) / t of the accounted variance.
 *
 * Both the aggregator (which writes the plan) and the agent (which refuses a plan whose numbers differ) call these
 * functions, so a plan is checked for exact equality, not within a tolerance.
 */
import { requireInteger, requireObject, requirePositive } from './guards.js';
import { DpRangeError } from './errors.js';

/** t - c: shares guaranteed honest in a released sum. @throws DpRangeError unless 0 <= c < t. */
export function honestShareCount(threshold: number, maxColluders: number): number {
  requireInteger(threshold, 'threshold', 1);
  requireInteger(maxColluders, 'maxColluders', 0);
  if (maxColluders >= threshold) {
    throw new DpRangeError(`maxColluders must be below threshold (${threshold}), got ${maxColluders}`);
  }
  return threshold - maxColluders;
}

/**
 * Each site's discrete Gaussian variance in integer (grid) units: (z C 2^s)^2 / (t - c).
 * @param o.noiseMultiplier z, the central multiplier the round is charged for
 * @param o.clipNorm C, one record's L2 bound (model units)
 * @param o.scaleBits s, the grid has 2^s integer units per model unit
 */
export function distributedShareVariance(o: {
  noiseMultiplier: number;
  clipNorm: number;
  scaleBits: number;
  threshold: number;
  maxColluders: number;
}): number {
  requireObject(o, 'options');
  requirePositive(o.noiseMultiplier, 'noiseMultiplier');
  requirePositive(o.clipNorm, 'clipNorm');
  requireInteger(o.scaleBits, 'scaleBits', 0, 62);
  const honest = honestShareCount(o.threshold, o.maxColluders);
  const centralStd = o.noiseMultiplier * o.clipNorm * 2 ** o.scaleBits;
  return (centralStd * centralStd) / honest;
}
