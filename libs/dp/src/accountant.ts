/**
 * The accountant entry points: epsilon of a whole history, composed exactly (RDP vectors summed over phases,
 * or PRVs convolved), never by adding epsilons.
 */
import { ddgStepRdp } from './ddg.js';
import { DpRangeError, DpUnsupportedError } from './errors.js';
import { requireChoice, requireDelta, requireObject, requireInterval } from './guards.js';
import { ACCOUNTANTS, mergePhases, validateHistory, type AccountantName, type Phase } from './phase.js';
import { prvEpsilon } from './prv.js';
import { DEFAULT_RDP_ORDERS, rdpToEpsilon, subsampledGaussianRdp } from './rdp.js';

export interface EpsilonResult {
  /** epsilon in nats; for 'prv' an upper bound. */
  epsilon: number;
  delta: number;
  accountant: AccountantName;
  /** RDP only: the order alpha that gives the smallest epsilon. */
  optimalOrder?: number;
  /** PRV only: the discretisation error bound; the true epsilon is in [epsilonLower, epsilon]. */
  epsilonError?: number;
  /** PRV only: lower bound on the true epsilon. */
  epsilonLower?: number;
}

export interface EpsilonOptions {
  accountant?: AccountantName;
  /** PRV only: error bound on epsilon (default 0.01, as Opacus). */
  epsError?: number;
}

/**
 * RDP (nats) of a whole history at each order: the sum over phases of steps x per-step RDP (RDP composition,
 * Mironov 2017, Proposition 1), taken separately for training and evaluation phases and then the larger of the two
 * at each order (epsilonOfMerged says why). Gaussian phases: Mironov, Talwar, Zhang 2019; DDG phases: see ddg.ts.
 */
export function historyRdp(history: readonly Phase[], orders: readonly number[] = DEFAULT_RDP_ORDERS): Float64Array {
  validateHistory(history, 'history');
  if (!Array.isArray(orders) || orders.length === 0) throw new DpRangeError('orders must be a non-empty array');
  orders.forEach((a, i) => requireInterval(a, `orders[${i}]`, 1, Number.MAX_VALUE, { min: true }));
  return historyRdpUnchecked(mergePhases(history), orders);
}

function historyRdpUnchecked(phases: readonly Phase[], orders: readonly number[]): Float64Array {
  const { training, evaluation } = splitByUse(phases);
  const total = composedRdp(training, orders);
  if (evaluation.length === 0) return total;
  // the larger of the two parts at each order: see epsilonOfMerged
  const evaluated = composedRdp(evaluation, orders);
  for (let k = 0; k < orders.length; k++) total[k] = Math.max(total[k], evaluated[k]);
  return total;
}

function composedRdp(phases: readonly Phase[], orders: readonly number[]): Float64Array {
  const total = new Float64Array(orders.length);
  for (const p of phases) {
    const perStep = p.mechanism
      ? ddgStepRdp(p.sampleRate, p.mechanism)
      : (alpha: number) => subsampledGaussianRdp(p.sampleRate, p.noiseMultiplier, alpha);
    for (let k = 0; k < orders.length; k++) total[k] += perStep(orders[k]) * p.steps;
  }
  return total;
}

function splitByUse(phases: readonly Phase[]): { training: Phase[]; evaluation: Phase[] } {
  const training: Phase[] = [];
  const evaluation: Phase[] = [];
  for (const p of phases) (p.use === 'evaluation' ? evaluation : training).push(p);
  return { training, evaluation };
}

/**
 * Validated, merged history; shared by the other entry points.
 *
 * Training and evaluation phases (Phase.use) are not summed. Each of a site's records goes to training or to
 * validation by the site's own per-record coin, fixed for the federation's life and independent of every other
 * record. For neighbouring datasets D, D' = D + {x} and any coin outcome, x is either a training record, and then
 * the evaluation outputs are a post-processing of the training outputs and of records D and D' share, so the pair of
 * output distributions is that of the training mechanisms alone; or a validation record, and then symmetrically only
 * the evaluation mechanisms see it. So for every coin outcome the Renyi divergence at order alpha is at most
 * max(T(alpha), E(alpha)); the released distribution is the coin-mixture of those, and Renyi divergence is jointly
 * quasi-convex (van Erven and Harremoes 2014, Theorem 13), so the bound holds for the mixture too. The same
 * argument with the hockey-stick divergence (jointly convex) gives epsilon(delta) <= max(eps_T(delta), eps_E(delta))
 * for the PRV accountant. docs/threat-model.md states it with its assumption.
 */
export function epsilonOfMerged(
  phases: readonly Phase[],
  delta: number,
  accountant: AccountantName,
  epsError = 0.01,
): EpsilonResult {
  if (phases.length === 0) {
    return accountant === 'rdp'
      ? { epsilon: 0, delta, accountant, optimalOrder: NaN }
      : { epsilon: 0, delta, accountant, epsilonError: 0, epsilonLower: 0 };
  }
  if (accountant === 'rdp') {
    const { epsilon, optimalOrder } = rdpToEpsilon(
      DEFAULT_RDP_ORDERS,
      historyRdpUnchecked(phases, DEFAULT_RDP_ORDERS),
      delta,
    );
    return { epsilon, delta, accountant, optimalOrder };
  }
  if (phases.some((p) => p.mechanism)) {
    throw new DpUnsupportedError(
      "accountant 'prv' has no analysis for distributed-discrete-gaussian phases: use accountant 'rdp'",
    );
  }
  const { training, evaluation } = splitByUse(phases);
  const parts = [training, evaluation]
    .filter((part) => part.length > 0)
    .map((part) => prvEpsilon(part, delta, epsError));
  const worst = parts.reduce((a, b) => (b.epsilon > a.epsilon ? b : a));
  return {
    epsilon: worst.epsilon,
    delta,
    accountant,
    epsilonError: worst.epsilonError,
    epsilonLower: Math.max(...parts.map((r) => r.epsilonLower)),
  };
}

export function readAccountant(opts: { accountant?: unknown } | undefined): AccountantName {
  if (opts === undefined || opts.accountant === undefined) return 'rdp';
  return requireChoice(opts.accountant, 'accountant', ACCOUNTANTS);
}

/**
 * epsilon of a site's whole history at `delta` (in (0, 1)). Default accountant 'rdp' (Opacus RDPAccountant's
 * numbers, with the optimal order); 'prv' gives a tight upper bound with its error (Gopi et al. 2021).
 * Throws DpTypeError / DpRangeError on bad input, DpUnsupportedError for 'prv' with DDG phases,
 * DpNumericError when 'prv' cannot resolve delta.
 */
export function computeEpsilon(history: readonly Phase[], delta: number, opts?: EpsilonOptions): EpsilonResult {
  const phases = validateHistory(history, 'history');
  requireDelta(delta, 'delta');
  if (opts !== undefined) requireObject(opts, 'opts');
  const accountant = readAccountant(opts);
  const epsError =
    opts?.epsError === undefined ? 0.01 : requireInterval(opts.epsError, 'epsError', 0, 10, { min: true });
  return epsilonOfMerged(mergePhases(phases), delta, accountant, epsError);
}
