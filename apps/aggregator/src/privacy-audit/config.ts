/**
 * Configuration of one privacy audit and the epsilon the ledger charges for it. The charge is computed exactly as
 * the ledger composes a site's receipts: local mode, `rounds` phases of `steps` Poisson-subsampled Gaussian steps;
 * distributed mode, `rounds` distributed discrete Gaussian phases described by @concord/protocol `privacyPhaseOf`
 * from a schema-validated distributed privacy plan (the same function agents and the aggregator use).
 */
import {
  calibrateNoiseMultiplier,
  computeEpsilon,
  distributedShareVariance,
  honestShareCount,
  type Phase,
} from '@concord/dp';
import { PrivacyPlanSchema, privacyPhaseOf, type PrivacyPlan } from '@concord/protocol';

export type AuditMode = 'local' | 'distributed' | 'black-box';
export const AUDIT_MODES: readonly AuditMode[] = ['local', 'distributed', 'black-box'];

export interface AuditOptions {
  mode: AuditMode;
  /** claimed (target) epsilon; the noise is calibrated so the charge is at most this */
  epsilon: number;
  delta: number;
  canaries: number;
  /** federation rounds (local: each has `steps` DP-SGD steps; distributed: one step per round) */
  rounds: number;
  steps: number;
  sampleRate: number;
  /** real (synthetic) records per site */
  records: number;
  /** distributed: honest noise shares in each released sum (the accounted minNoisyClients; also the cohort) */
  sites: number;
  confidence: number;
  seed: Uint8Array;
  threads: number;
  /**
   * TEST-ONLY switch (slow tests and the benchmark's negative control; no CLI flag): run the mechanism with its
   * noise removed (noise multiplier 0 / discrete Gaussian variance 0) while charging the same epsilon, to show
   * that the audit sees a broken mechanism.
   */
  removeNoise?: boolean;
}

export const AUDIT_DEFAULTS = {
  epsilon: 4,
  delta: 1e-5,
  canaries: 1000,
  sampleRate: 0.5,
  records: 1000,
  sites: 3,
  confidence: 0.95,
  localRounds: 10,
  localSteps: 10,
  distributedRounds: 100,
} as const;

export const CLIP_NORM = 1;
export const SCALE_BITS = 14;
export const COUNT_WEIGHT = 0.25;

export interface Charge {
  epsilon: number;
  delta: number;
  accountant: 'rdp';
  noiseMultiplier: number;
  /** distributed: each site's discrete Gaussian variance in integer units */
  localNoiseVariance?: number;
}

/**
 * The distributed privacy plan of one audit round, validated by the protocol's schema. The shares are sized by
 * @concord/dp `distributedShareVariance` (the aggregator's and agents' sizing, (z C 2^s)^2 / (t - c)) with t = sites
 * and c = 0 colluders: every summed share is honest and there are exactly as many as the charge accounts.
 */
export function distributedPlan(o: AuditOptions, noiseMultiplier: number, parameters: number): PrivacyPlan {
  const shape = { threshold: o.sites, maxColluders: 0 };
  const localNoiseVariance = distributedShareVariance({
    noiseMultiplier,
    clipNorm: CLIP_NORM,
    scaleBits: SCALE_BITS,
    ...shape,
  });
  return PrivacyPlanSchema.parse({
    mode: 'distributed',
    sampleRate: o.sampleRate,
    noiseMultiplier,
    steps: 1,
    clipNorm: CLIP_NORM,
    delta: o.delta,
    accountant: 'rdp',
    distributed: {
      scaleBits: SCALE_BITS,
      roundingBeta: 0,
      dimension: parameters + 1,
      modulusBits: 32,
      localNoiseVariance,
      minNoisyClients: honestShareCount(shape.threshold, shape.maxColluders),
      cohortSize: o.sites,
      countWeight: COUNT_WEIGHT,
    },
  });
}

function distributedEpsilon(o: AuditOptions, z: number, parameters: number): number {
  const phase = privacyPhaseOf(distributedPlan(o, z, parameters)) as Phase;
  return computeEpsilon(new Array<Phase>(o.rounds).fill(phase), o.delta, { accountant: 'rdp' }).epsilon;
}

/**
 * Smallest noise multiplier (to 1%) whose charge is at most `o.epsilon`, and that charge.
 * @throws RangeError (from @concord/dp) when no multiplier up to 1e6 reaches the target.
 */
export function chargeFor(o: AuditOptions, parameters: number): Charge {
  if (o.mode !== 'distributed') {
    const r = calibrateNoiseMultiplier({
      targetEpsilon: o.epsilon,
      sampleRate: o.sampleRate,
      steps: o.rounds * o.steps,
      delta: o.delta,
      accountant: 'rdp',
      tolerance: 0.01 * o.epsilon,
    });
    const check = computeEpsilon(
      [{ sampleRate: o.sampleRate, noiseMultiplier: r.noiseMultiplier, steps: o.rounds * o.steps }],
      o.delta,
    );
    return { epsilon: check.epsilon, delta: o.delta, accountant: 'rdp', noiseMultiplier: r.noiseMultiplier };
  }
  let lo = 0.05;
  let hi = 1;
  while (distributedEpsilon(o, hi, parameters) > o.epsilon) {
    lo = hi;
    hi *= 2;
    if (hi > 1e6) throw new RangeError('no noise multiplier reaches the target epsilon');
  }
  while (hi / lo > 1.005) {
    const mid = Math.sqrt(lo * hi);
    if (distributedEpsilon(o, mid, parameters) > o.epsilon) lo = mid;
    else hi = mid;
  }
  const plan = distributedPlan(o, hi, parameters);
  return {
    epsilon: distributedEpsilon(o, hi, parameters),
    delta: o.delta,
    accountant: 'rdp',
    noiseMultiplier: hi,
    localNoiseVariance: plan.mode === 'distributed' ? plan.distributed.localNoiseVariance : undefined,
  };
}
