/**
 * @concord/dp: privacy accountants (RDP and PRV), noise calibration, budget policy and distributed discrete
 * Gaussian accounting. Pure: no I/O, no randomness, no clocks. All epsilons are in nats.
 */
export type { AccountantName, Phase, PhaseUse } from './phase.js';
export { PHASE_USES } from './phase.js';
export { ACCOUNTANTS, MAX_STEPS } from './phase.js';
export { DEFAULT_RDP_ORDERS } from './rdp.js';
export type { EpsilonResult, EpsilonOptions } from './accountant.js';
export { computeEpsilon, historyRdp } from './accountant.js';
export { calibrateNoiseMultiplier, maxSteps, MAX_NOISE_MULTIPLIER } from './calibrate.js';
export type { BudgetCap } from './budget.js';
export { checkBudget } from './budget.js';
export type { DistributedDiscreteGaussian } from './ddg.js';
export { roundedSensitivity, ddgTau, distributedDiscreteGaussianRdp } from './ddg.js';
export { DpTypeError, DpRangeError, DpUnsupportedError, DpNumericError, DpBudgetError } from './errors.js';
export type { DpErrorCode } from './errors.js';
export { honestShareCount, distributedShareVariance } from './distributed-sizing.js';
export * from './audit/index.js';
