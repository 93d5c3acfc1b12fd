/**
 * The auditor's guesses in the one-run experiment ([SNJ23] section 6, "we guess the k+ highest scores are
 * included and the k- lowest are excluded, abstaining on the rest"), and the guess sweep.
 *
 * A sweep over several (k+, k-) pairs is valid only if each pair is tested at failure probability beta / (number
 * of pairs) (Bonferroni); `auditSweep` in analyse.ts does that. Picking the best pair after seeing the scores
 * without the correction would make the bound invalid.
 */
import { DpRangeError, DpTypeError } from '../errors.js';
import { requireInteger } from '../guards.js';

export interface GuessCount {
  kPlus: number;
  kMinus: number;
  /** r = k+ + k- */
  guesses: number;
  /** v: guesses that match the secret coins */
  correct: number;
}

/** Indices of `scores` sorted by decreasing score (ties by index, so the order never depends on the coins). */
export function rankScores(scores: ArrayLike<number>): Uint32Array {
  if (scores === null || typeof scores !== 'object' || typeof scores.length !== 'number')
    throw new DpTypeError('scores must be an array');
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) {
    if (typeof scores[i] !== 'number' || !Number.isFinite(scores[i]))
      throw new DpRangeError(`scores[${i}] must be a finite number`);
    order[i] = i;
  }
  order.sort((x, y) => scores[y] - scores[x] || x - y);
  return order;
}

/**
 * Guesses "included" for the k+ top-ranked canaries and "excluded" for the k- bottom-ranked ones; counts matches.
 * @throws DpRangeError if k+ + k- exceeds the number of canaries or `order` and `included` differ in length.
 */
export function countGuesses(
  order: Uint32Array,
  included: ArrayLike<boolean>,
  kPlus: number,
  kMinus: number,
): GuessCount {
  if (!(order instanceof Uint32Array)) throw new DpTypeError('order must be a Uint32Array (rankScores)');
  if (included === null || typeof included !== 'object' || included.length !== order.length) {
    throw new DpRangeError('included must have one coin per canary');
  }
  const m = order.length;
  requireInteger(kPlus, 'kPlus', 0, m);
  requireInteger(kMinus, 'kMinus', 0, m);
  if (kPlus + kMinus > m) throw new DpRangeError(`kPlus + kMinus must be <= ${m}`);
  let correct = 0;
  for (let i = 0; i < kPlus; i++) if (included[order[i]]) correct++;
  for (let i = m - kMinus; i < m; i++) if (!included[order[i]]) correct++;
  return { kPlus, kMinus, guesses: kPlus + kMinus, correct };
}

/** Default sweep: k+ = k- = k for k = 1%, 2%, 5%, 10%, 20%, 30%, 50% of m/2 (deduplicated, k >= 1), fixed in advance. */
export function defaultGuessSweep(m: number): { kPlus: number; kMinus: number }[] {
  requireInteger(m, 'canaries', 2);
  const ks = new Set<number>();
  for (const f of [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5]) ks.add(Math.max(1, Math.round((f * m) / 2)));
  return [...ks].map((k) => ({ kPlus: k, kMinus: k }));
}
