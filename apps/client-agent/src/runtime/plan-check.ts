import { createHash } from 'node:crypto';
import { parameterCount, type ModelSpec } from '@concord/native';
import {
  PROTOCOL_VERSION,
  RoundPlanMessageSchema,
  SIGNING_DOMAINS,
  bytesToFloat32,
  parseEd25519PublicKey,
  PublicKeyError,
  updateVectorLength,
  verifyValue,
  type TrainingPlan,
} from '@concord/protocol';
import type { AgentIdentity } from './context.js';

export class PlanRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PlanRefusal';
  }
}

/**
 * Checks an incoming plan before anything else happens: schema, the aggregator's signature with the PINNED key,
 * protocol version, federation, this site in the (signed) roster, every roster key canonical and of prime order,
 * expiry, not a round already seen, an encoding this agent runs (roundingBeta 0 in distributed mode), and the
 * weights' SHA-256 and size against the signed plan. Throws PlanRefusal with a code.
 */
export function verifyPlanMessage(
  message: unknown,
  identity: AgentIdentity,
  seenRounds: ReadonlySet<string>,
  now: Date,
): { plan: TrainingPlan; weights: Float32Array } {
  const parsed = RoundPlanMessageSchema.safeParse(message);
  if (!parsed.success) {
    const version = (message as { plan?: { version?: unknown } } | null)?.plan?.version;
    if (version !== undefined && version !== PROTOCOL_VERSION)
      throw new PlanRefusal('E_VERSION', 'unsupported plan version');
    throw new PlanRefusal('E_BAD_MESSAGE', 'malformed plan message');
  }
  const { plan, signature, weights } = parsed.data;
  if (!verifyValue(SIGNING_DOMAINS.plan, plan, signature, identity.serverPublicKey)) {
    throw new PlanRefusal('E_BAD_SIGNATURE', 'plan is not signed by the pinned aggregator key');
  }
  if (plan.federationId !== identity.federationId)
    throw new PlanRefusal('E_WRONG_ROUND', 'plan is for another federation');
  if (!plan.roster.some((m) => m.siteId === identity.siteId))
    throw new PlanRefusal('E_NOT_IN_ROUND', 'site is not in the roster');
  // Peers' identity keys are read as at enrollment (@concord/protocol keys.ts): one base64 encoding, a prime-order
  // Ed25519 point. A small-order key would let a trivial signature pass for that peer's seed commitment,
  // advertisement and consistency signature (issue 16). Verdicts are cached per key, so a cohort costs this once.
  for (const m of plan.roster) {
    try {
      parseEd25519PublicKey(m.identityPublicKey, `roster key of ${m.siteId}`);
    } catch (error) {
      throw new PlanRefusal(error instanceof PublicKeyError ? error.code : 'E_KEY_ENCODING', (error as Error).message);
    }
  }
  if (seenRounds.has(plan.roundId)) throw new PlanRefusal('E_REPLAY', 'plan for a round already seen');
  if (plan.privacy.mode === 'distributed' && plan.privacy.distributed.roundingBeta !== 0) {
    // this agent rounds its summed update with plain randomized rounding; a receipt declaring conditional rounding
    // would be accounted for a mechanism the site does not run
    throw new PlanRefusal(
      'E_UNSUPPORTED_PLAN',
      'distributed plans must use plain randomized rounding (roundingBeta 0)',
    );
  }
  if (Date.parse(plan.expiresAt) <= now.getTime()) throw new PlanRefusal('E_PLAN_EXPIRED', 'plan has expired');
  let p: number;
  try {
    p = parameterCount(plan.model.spec as ModelSpec);
  } catch {
    throw new PlanRefusal('E_BAD_MESSAGE', 'plan model spec is invalid');
  }
  // an evaluation plan sums a count vector (its length is checked by evaluation-decision.ts), not an update
  const vectorLength = plan.evaluation ? plan.evaluation.vectorLength : updateVectorLength(plan.privacy, p);
  if (p !== plan.model.parameterCount || plan.secagg.vectorLength !== vectorLength) {
    throw new PlanRefusal('E_BAD_MESSAGE', 'plan sizes are inconsistent');
  }
  if (createHash('sha256').update(weights).digest('hex') !== plan.model.sha256) {
    throw new PlanRefusal('E_BAD_MESSAGE', 'weights do not match the signed hash');
  }
  let floats: Float32Array;
  try {
    floats = bytesToFloat32(weights, p, 'weights');
  } catch (error) {
    throw new PlanRefusal((error as { code?: string }).code ?? 'E_BAD_MESSAGE', 'weights are malformed');
  }
  return { plan, weights: floats };
}
