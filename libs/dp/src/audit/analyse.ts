/**
 * One call that runs the three one-run analyses on a finished audit's scores:
 * - `oneRun`: [SNJ23] (one-run.ts), rigorous, (eps, delta)-DP null hypothesis;
 * - `fdp`: [MMC25] with the Gaussian family (fdp.ts), rigorous rejection of mu-GDP, eps read from that curve;
 * - `gaussianPair`: the Gaussian-pair audit (gaussian-pair.ts), asymptotic/heuristic.
 * The first two use the same guess sweep, fixed before the scores are seen and Bonferroni-corrected.
 */
import { DpRangeError, DpTypeError } from '../errors.js';
import { requireArray, requireInterval } from '../guards.js';
import { fdpGaussianLowerBound } from './fdp.js';
import { gaussianPairAudit, type GaussianPairResult } from './gaussian-pair.js';
import { countGuesses, defaultGuessSweep, rankScores, type GuessCount } from './guesses.js';
import { oneRunEpsilonLowerBound } from './one-run.js';

export interface AuditAnalysis {
  canaries: number;
  included: number;
  delta: number;
  confidence: number;
  /** the (k+, k-) pairs tried; each test ran at failure probability (1 - confidence) / sweep.length */
  sweep: { kPlus: number; kMinus: number }[];
  oneRun: { epsilon: number; best: GuessCount; rigorous: true };
  fdp: { epsilon: number; mu: number; best: GuessCount; rigorous: true };
  gaussianPair: GaussianPairResult & { rigorous: false };
}

/**
 * @param o.scores one score per canary, higher = guessed included
 * @param o.included the secret coins (true = the canary was in the training set)
 * @param o.delta the delta at which epsilons are read (the claimed delta)
 * @param o.confidence e.g. 0.95
 * @param o.sweep (k+, k-) pairs fixed in advance; default `defaultGuessSweep(m)`
 * @throws DpTypeError / DpRangeError for mismatched or non-finite inputs, fewer than 4 canaries, a bad sweep.
 */
export function analyseAudit(o: {
  scores: ArrayLike<number>;
  included: ArrayLike<boolean>;
  delta: number;
  confidence: number;
  sweep?: { kPlus: number; kMinus: number }[];
}): AuditAnalysis {
  if (typeof o !== 'object' || o === null) throw new DpTypeError('options must be an object');
  const delta = requireInterval(o.delta, 'delta', 0, 1, { min: true, max: true });
  const confidence = requireInterval(o.confidence, 'confidence', 0, 1, { min: true, max: true });
  const order = rankScores(o.scores);
  const m = order.length;
  if (m < 4) throw new DpRangeError('an audit needs at least 4 canaries');
  const sweep =
    o.sweep === undefined
      ? defaultGuessSweep(m)
      : (requireArray(o.sweep, 'sweep') as { kPlus: number; kMinus: number }[]);
  if (sweep.length === 0) throw new DpRangeError('sweep must not be empty');
  const beta = (1 - confidence) / sweep.length;
  const counts = sweep.map((s) => countGuesses(order, o.included, s.kPlus, s.kMinus));
  let oneRun = { epsilon: 0, best: counts[0] };
  let fdp = { epsilon: 0, mu: 0, best: counts[0] };
  for (const c of counts) {
    if (c.guesses === 0) continue;
    const base = { canaries: m, guesses: c.guesses, correct: c.correct, delta, failureProbability: beta };
    const e = oneRunEpsilonLowerBound(base);
    if (e > oneRun.epsilon) oneRun = { epsilon: e, best: c };
    const f = fdpGaussianLowerBound(base);
    if (f.mu > fdp.mu) fdp = { ...f, best: c };
  }
  let inc = 0;
  for (let i = 0; i < m; i++) if (o.included[i]) inc++;
  return {
    canaries: m,
    included: inc,
    delta,
    confidence,
    sweep: sweep.map((s) => ({ kPlus: s.kPlus, kMinus: s.kMinus })),
    oneRun: { ...oneRun, rigorous: true },
    fdp: { ...fdp, rigorous: true },
    gaussianPair: {
      ...gaussianPairAudit({ scores: o.scores, included: o.included, delta, confidence }),
      rigorous: false,
    },
  };
}
