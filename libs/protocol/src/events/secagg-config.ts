import type { TrainingPlan } from './plan.js';

/**
 * The SecAgg+ round configuration a signed plan fixes, in the shape `@concord/secagg`'s `SecAggConfig` takes
 * (structurally: this package sits below secagg and cannot import its types). The aggregator's server and every
 * site's client build it with this one function, so both sides derive the same neighbourhood graph and Shamir
 * x-coordinates from the same plan (Bell et al. 2020, §3: all parties must agree on the graph).
 */
export interface PlanSecAggConfig {
  federationId: string;
  roundId: string;
  roster: { clientId: string; identityPublicKey: Uint8Array }[];
  threshold: number;
  neighbours: number;
  vectorLength: number;
  graphSeed: Uint8Array;
}

export function secAggConfigOf(plan: TrainingPlan): PlanSecAggConfig {
  if (typeof plan !== 'object' || plan === null) throw new TypeError('plan: expected a training plan');
  return {
    federationId: plan.federationId,
    roundId: plan.roundId,
    roster: plan.roster.map((m) => ({
      clientId: m.siteId,
      identityPublicKey: new Uint8Array(Buffer.from(m.identityPublicKey, 'base64')),
    })),
    threshold: plan.secagg.threshold,
    neighbours: plan.secagg.neighbours,
    vectorLength: plan.secagg.vectorLength,
    graphSeed: new Uint8Array(Buffer.from(plan.secagg.graphSeed, 'base64')),
  };
}
