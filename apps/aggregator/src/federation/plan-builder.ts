import { distributedShareVariance, honestShareCount } from '@concord/dp';
import {
  DEFAULT_MAX_COLLUDERS,
  MAX_MODULUS_BITS,
  planModulusBits,
  PROTOCOL_VERSION,
  updateVectorLength,
  type PrivacyPlan,
  type RosterMember,
  type TrainingPlan,
} from '@concord/protocol';
import { evaluationPlanOf } from './evaluation-plan.js';
import { secAggShape, type FederationSettings } from './settings.js';

/**
 * The round's training plan (unsigned) for `roster`. t is chosen with 2t-(k+1) > c (c = the federation's declared
 * colluders, libs/protocol collusion.ts). In distributed mode each site's discrete Gaussian share has variance
 * (z * C * 2^s)^2 / (t - c): any released sum has at least t survivors (every agent refuses a smaller signed
 * survivor set), at most c of them colluders, so its t - c honest shares carry the full central noise z*C (model
 * units), and the receipt accounts with minNoisyClients = t - c (libs/dp distributed-sizing.ts). Every agent
 * recomputes these numbers from the terms it pinned and refuses a plan whose numbers differ.
 * @throws RangeError when the sum this cohort can make (plus the noise tail) needs more than 32 bits.
 */
export function buildPlan(o: {
  settings: FederationSettings;
  federationId: string;
  roundId: string;
  roundNumber: number;
  roster: RosterMember[];
  parameterCount: number;
  modelSha256: string;
  now: Date;
  /** present: an evaluation plan for this model version (evaluation-plan.ts) */
  evaluationOf?: number;
}): TrainingPlan {
  const { settings, roster, parameterCount } = o;
  const n = roster.length;
  const maxColluders = settings.secaggMaxColluders ?? DEFAULT_MAX_COLLUDERS;
  const { neighbours, threshold } = secAggShape(n, settings.secaggNeighbours, settings.secaggThreshold, maxColluders);
  const privacy = privacyPlan(settings, n, threshold, maxColluders, parameterCount);
  // The clamp: in distributed mode each site's clipped gradient SUM (and the count coordinate) is clamped per
  // coordinate only to bound the sum (the clamp is 1-Lipschitz, so a record still moves the clamped sum by at most
  // C). Settings that size it from the data (`privacy.clamp`) get a narrow modulus; without it the clamp fills half
  // of 32 bits, as before issue 20. Local/none clamp each delta value to `encoding.clip`.
  const bits = privacy.mode === 'distributed' ? privacy.distributed.scaleBits : settings.encoding.scaleBits;
  const clamp =
    settings.privacy.mode === 'distributed'
      ? (settings.privacy.clamp ?? 2 ** 31 / (2 * n * 2 ** bits))
      : settings.encoding.clip;
  const encoding = privacy.mode === 'distributed' ? { clip: clamp, scaleBits: bits } : settings.encoding;
  const evaluation =
    o.evaluationOf === undefined
      ? undefined
      : evaluationPlanOf(settings, { modelVersion: o.evaluationOf, cohortSize: n, threshold, maxColluders });
  const vectorLength = evaluation ? evaluation.vectorLength : updateVectorLength(privacy, parameterCount);
  // The modulus 2^b: the largest |sum| n sites can make (plus the noise tail), derived exactly as every agent
  // re-derives it (libs/protocol events/modulus.ts).
  const modulusBits = planModulusBits({ privacy, encoding, roster, secagg: { vectorLength }, evaluation });
  if (modulusBits > MAX_MODULUS_BITS) {
    throw new RangeError(`encoding: ${n} sites x clip ${encoding.clip} x 2^${bits} overflows 32 bits`);
  }
  if (privacy.mode === 'distributed') privacy.distributed.modulusBits = modulusBits;
  return {
    version: PROTOCOL_VERSION,
    federationId: o.federationId,
    roundId: o.roundId,
    roundNumber: o.roundNumber,
    issuedAt: o.now.toISOString(),
    expiresAt: new Date(o.now.getTime() + settings.planTtlMs).toISOString(),
    model: { spec: settings.model, parameterCount, sha256: o.modelSha256 },
    privacy,
    optimization: settings.optimization,
    encoding,
    secagg: { threshold, neighbours, vectorLength, modulusBits },
    roster,
    ...(evaluation ? { evaluation } : {}),
  };
}

function privacyPlan(
  settings: FederationSettings,
  n: number,
  threshold: number,
  maxColluders: number,
  parameterCount: number,
): PrivacyPlan {
  const p = settings.privacy;
  if (p.mode === 'none') return p;
  if (p.mode === 'local') return { ...p, accountant: p.accountant ?? 'rdp' };
  return {
    mode: 'distributed',
    sampleRate: p.sampleRate,
    noiseMultiplier: p.noiseMultiplier,
    steps: 1,
    clipNorm: p.clipNorm,
    delta: p.delta,
    accountant: 'rdp',
    distributed: {
      scaleBits: p.scaleBits,
      roundingBeta: p.roundingBeta,
      dimension: parameterCount + 1,
      modulusBits: MAX_MODULUS_BITS, // set by buildPlan from the whole plan
      localNoiseVariance: distributedShareVariance({
        noiseMultiplier: p.noiseMultiplier,
        clipNorm: p.clipNorm,
        scaleBits: p.scaleBits,
        threshold,
        maxColluders,
      }),
      minNoisyClients: honestShareCount(threshold, maxColluders),
      cohortSize: n,
      countWeight: p.countWeight,
    },
  };
}
