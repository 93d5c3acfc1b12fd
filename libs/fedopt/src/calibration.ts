/**
 * Noise calibration for a whole federation: the noise multiplier that makes a site's ENTIRE history (every round it
 * may join) reach exactly the target (epsilon, delta), records-level (add/remove one record), composed with
 * @concord/dp's accountants (RDP composition, never added epsilons).
 *
 * - local mode: each round a site runs `localSteps` DP-SGD steps at Poisson rate q with noise multiplier z, so its
 *   history is (rounds x localSteps) subsampled Gaussian steps (Abadi et al. 2016; Mironov, Talwar, Zhang 2019).
 *   Calibrated with `calibrateNoiseMultiplier` (Opacus's search).
 * - distributed mode: each round is ONE Poisson-subsampled distributed discrete Gaussian release (Kairouz, Liu,
 *   Steinke 2021) with the parameters the aggregator's plan uses: per-site discrete Gaussian variance
 *   (z C 2^s)^2 / t in integer units, accounted with only t clients' noise (the SecAgg+ threshold: fewer survivors
 *   abort the round), granularity 2^-s, dimension d = parameters + 1 (the noisy-count coordinate), rounding bias
 *   beta. Rounding inflates the sensitivity (C 2^s + sqrt(d) for beta = 0), so z here is slightly above the
 *   Gaussian one. Bisection on z with the RDP accountant (the PRV accountant has no DDG analysis).
 */
import {
  calibrateNoiseMultiplier,
  computeEpsilon,
  type AccountantName,
  type DistributedDiscreteGaussian,
  type Phase,
} from '@concord/dp';
import { FedOptError } from './optimizers.js';

export interface DistributedMechanismParameters {
  clipNorm: number;
  scaleBits: number;
  /** d: length of the summed vector (parameters + 1). */
  dimension: number;
  /** t: sites whose noise is guaranteed in the sum. */
  minNoisyClients: number;
  /**
   * Bias of conditional rounding; the protocol's sites use 0 (plain randomized rounding of the sum as a whole),
   * which libs/dp accounts with one record's L2 sensitivity C 2^s + sqrt(d) (the shared-uniform coupling, ddg.ts).
   */
  roundingBeta: number;
}

/** The accounting phase of `rounds` distributed rounds at central multiplier z (same maths as the plan). */
export function distributedPhase(
  sampleRate: number,
  noiseMultiplier: number,
  rounds: number,
  m: DistributedMechanismParameters,
): Phase {
  const centralStd = noiseMultiplier * m.clipNorm * 2 ** m.scaleBits;
  return {
    sampleRate,
    noiseMultiplier,
    steps: rounds,
    mechanism: {
      kind: 'distributed-discrete-gaussian',
      l2Clip: m.clipNorm,
      granularity: 2 ** -m.scaleBits,
      dimension: m.dimension,
      roundingBias: m.roundingBeta,
      localSigma: Math.sqrt((centralStd * centralStd) / m.minNoisyClients),
      minClients: m.minNoisyClients,
    },
  };
}

/** Local mode: the smallest z (within 0.01 in epsilon) meeting the target over rounds x localSteps steps. */
export function calibrateLocalNoise(o: {
  targetEpsilon: number;
  delta: number;
  sampleRate: number;
  localSteps: number;
  rounds: number;
  accountant?: AccountantName;
}): { noiseMultiplier: number; epsilon: number } {
  try {
    return calibrateNoiseMultiplier({
      targetEpsilon: o.targetEpsilon,
      sampleRate: o.sampleRate,
      steps: o.localSteps * o.rounds,
      delta: o.delta,
      accountant: o.accountant,
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'E_DP_BUDGET') {
      throw new FedOptError('E_FEDOPT_BUDGET', `target epsilon ${o.targetEpsilon} is out of reach for this plan`);
    }
    throw error;
  }
}

/**
 * Distributed mode: the smallest central z (relative tolerance 1e-3) such that `rounds` DDG releases stay within
 * the target epsilon. Returns z and the epsilon it gives.
 */
export function calibrateDistributedNoise(o: {
  targetEpsilon: number;
  delta: number;
  sampleRate: number;
  rounds: number;
  mechanism: DistributedMechanismParameters;
  /**
   * The exact mechanism the protocol will charge for a central multiplier z, when it is not the plain layout above
   * (e.g. `z => ddgMechanism(planDdg({ ..., noiseMultiplier: z }))` from @concord/secagg, whose granularity,
   * padded dimension and rounding bias depend on z): calibration and ledger then agree to the last digit.
   */
  mechanismFor?: (noiseMultiplier: number) => DistributedDiscreteGaussian;
}): { noiseMultiplier: number; epsilon: number } {
  const phase = (z: number): Phase =>
    o.mechanismFor
      ? { sampleRate: o.sampleRate, noiseMultiplier: z, steps: o.rounds, mechanism: o.mechanismFor(z) }
      : distributedPhase(o.sampleRate, z, o.rounds, o.mechanism);
  const eps = (z: number) => computeEpsilon([phase(z)], o.delta, { accountant: 'rdp' }).epsilon;
  // The DDG bound assumes every site's sigma >= 1/2 integer units: start the search there.
  const zFloor = (0.5 * Math.sqrt(o.mechanism.minNoisyClients)) / (o.mechanism.clipNorm * 2 ** o.mechanism.scaleBits);
  let low = zFloor;
  let high = Math.max(zFloor, 0.25);
  let epsHigh = eps(high);
  while (epsHigh > o.targetEpsilon) {
    low = high;
    high *= 2;
    if (high > 1e6) {
      throw new FedOptError('E_FEDOPT_BUDGET', `target epsilon ${o.targetEpsilon} is out of reach for this plan`);
    }
    epsHigh = eps(high);
  }
  if (high === zFloor) return { noiseMultiplier: high, epsilon: epsHigh };
  while (high - low > 1e-3 * high) {
    const mid = (low + high) / 2;
    const e = eps(mid);
    if (e <= o.targetEpsilon) {
      high = mid;
      epsHigh = e;
    } else low = mid;
  }
  return { noiseMultiplier: high, epsilon: epsHigh };
}
