import { decodeCanonicalBase64 } from '../keys.js';
import type { TrainingPlan } from './plan.js';

/**
 * The SecAgg+ round configuration a signed plan fixes, in the shape `@concord/secagg`'s `SecAggConfig` takes
 * (structurally: this package sits below secagg and cannot import its types). The aggregator's server and every
 * site's client build it with this one function, so both sides derive the same roster, threshold and Shamir
 * x-coordinates from the same plan. The graph seed is not in the plan: the cohort draws it by commit-and-reveal
 * (SecAgg+ stages S1-S2, @concord/secagg seed-flip.ts) and every party adds it to this config afterwards.
 */
export interface PlanSecAggConfig {
  federationId: string;
  roundId: string;
  roster: { clientId: string; identityPublicKey: Uint8Array }[];
  threshold: number;
  neighbours: number;
  vectorLength: number;
  /** sums mod 2^modulusBits, masked inputs packed at that width (events/modulus.ts) */
  modulusBits: number;
}

/** @throws PublicKeyError E_KEY_ENCODING for a roster key not in canonical base64. */
export function secAggConfigOf(plan: TrainingPlan): PlanSecAggConfig {
  if (typeof plan !== 'object' || plan === null) throw new TypeError('plan: expected a training plan');
  return {
    federationId: plan.federationId,
    roundId: plan.roundId,
    roster: plan.roster.map((m) => ({
      clientId: m.siteId,
      // one encoding per key (keys.ts): a key in another base64 spelling is refused, never decoded leniently
      identityPublicKey: decodeCanonicalBase64(m.identityPublicKey, 32, `roster ${m.siteId} identityPublicKey`),
    })),
    threshold: plan.secagg.threshold,
    neighbours: plan.secagg.neighbours,
    vectorLength: plan.secagg.vectorLength,
    modulusBits: plan.secagg.modulusBits,
  };
}
