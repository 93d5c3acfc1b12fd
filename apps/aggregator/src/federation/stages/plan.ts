import { SIGNING_DOMAINS, float32ToBytes, type TrainingPlan } from '@concord/protocol';
import type { AgentConnectionsRepository } from '../../repositories/agent-connections.repository.js';
import type { KeyRepository } from '../../repositories/key.repository.js';
import type { RoundRepository } from '../../repositories/round.repository.js';
import { buildPlan } from '../plan-builder.js';
import type { StageDrop } from '../secagg-session.js';
import { requestSites } from '../site-broadcast.js';
import { isError } from '../site-request.js';
import { RoundFailure, sha256Hex, type RoundContext } from './round-context.js';

export interface PlanOutcome {
  plan: TrainingPlan;
  accepted: string[];
  drops: StageDrop[];
}

/**
 * Stage "plan": builds and signs the round's plan, stores it, and sends it with the current model to every member,
 * each of which verifies it, asks its own budget guard, and accepts or refuses with a code. Throws
 * E_TOO_FEW_SITES before sending when the roster is under 2, and E_TOO_FEW_SURVIVORS (with `drops` on the error)
 * when fewer than the SecAgg+ threshold accept.
 */
export async function sendPlan(
  deps: {
    rounds: Pick<RoundRepository, 'setState' | 'setParticipant'>;
    keys: Pick<KeyRepository, 'sign'>;
    connections: Pick<AgentConnectionsRepository, 'socketOf'>;
  },
  ctx: RoundContext,
  weights: Float32Array,
): Promise<PlanOutcome> {
  const { federationId, settings, round, roster } = ctx;
  if (roster.length < 2) throw new RoundFailure('E_TOO_FEW_SITES', 'fewer than 2 active sites connected');
  const modelBytes = float32ToBytes(weights);
  const plan = buildPlan({
    settings,
    federationId,
    roundId: round.id,
    roundNumber: round.number,
    roster,
    parameterCount: weights.length,
    modelSha256: sha256Hex(modelBytes),
    now: new Date(),
    evaluationOf: ctx.evaluationOf,
  });
  const signature = deps.keys.sign(SIGNING_DOMAINS.plan, plan);
  await deps.rounds.setState(round.id, 'open', { plan: plan as unknown as Record<string, unknown> });
  ctx.lap('plan-sign');

  const message = { plan, signature, weights: modelBytes };
  const accepted: string[] = [];
  const drops: StageDrop[] = [];
  // one encoding of the plan and model for the whole cohort (site-broadcast.ts), each reply handled as it arrives
  const ids = roster.map((m) => m.siteId);
  const replies = requestSites(deps.connections, ids, 'round:plan', message, settings.timeouts.planMs);
  await Promise.all(
    [...replies].map(async ([siteId, pending]) => {
      const reply = await pending;
      if (isError(reply)) drops.push({ siteId, code: reply.code, reason: reply.reason.slice(0, 200) });
      else accepted.push(siteId);
    }),
  );
  await deps.rounds.setParticipant(round.id, accepted, { stage: 'plan_accepted' });
  ctx.lap('plan-send');
  if (accepted.length < plan.secagg.threshold) {
    throw new PlanRefused(drops, `${accepted.length} sites accepted the plan, need ${plan.secagg.threshold}`);
  }
  return { plan, accepted, drops };
}

/** Too few members accepted the plan; `drops` says who refused and why. */
export class PlanRefused extends RoundFailure {
  constructor(
    readonly drops: StageDrop[],
    message: string,
  ) {
    super('E_TOO_FEW_SURVIVORS', message);
  }
}
