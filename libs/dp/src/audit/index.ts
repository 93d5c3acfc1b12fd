/**
 * Empirical privacy auditing from one training run (pure analyses; the experiment itself lives in
 * apps/aggregator `concord privacy audit`). Rigorous: `oneRun*` ([SNJ23]) and `fdpGaussianLowerBound` ([MMC25],
 * a rejection of mu-GDP). Asymptotic/heuristic: `gaussianPairAudit`.
 */
export { oneRunPValue, oneRunEpsilonLowerBound } from './one-run.js';
export { fdpGaussianLowerBound } from './fdp.js';
export { gaussianPairAudit, type GaussianPairResult } from './gaussian-pair.js';
export { gdpDelta, gdpEpsilon, gaussianHockeyStick } from './gdp.js';
export { countGuesses, defaultGuessSweep, rankScores, type GuessCount } from './guesses.js';
export { analyseAudit, type AuditAnalysis } from './analyse.js';
export { normalQuantile } from './normal.js';
