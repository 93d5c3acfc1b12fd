import {
  MaskedUpdateReplySchema,
  secAggConfigOf,
  type PrivacyReceipt,
  type ReceiptProof,
  type TrainingPlan,
} from '@concord/protocol';
import { SecAggServer, SeedFlipServer, type SecAggError, type StageOutcome } from '@concord/secagg';
import type { AgentConnectionsRepository } from '../../repositories/agent-connections.repository.js';
import type { RoundRepository } from '../../repositories/round.repository.js';
import { checkRoundReceipt } from '../receipt-check.js';
import { SecAggSession, type StageDrop } from '../secagg-session.js';
import { RoundFailure, type RoundContext } from './round-context.js';

/**
 * A survivor's signed receipt, checked against the plan and its pinned identity key, waiting to be charged; `proof`
 * (receipt-check.ts) spares the ledger a second verification of the same signature under the same key.
 */
export type CheckedReceipt = { receipt: PrivacyReceipt; signature: string; proof?: ReceiptProof };

export interface MaskedInputs {
  session: SecAggSession;
  /** the consistency stage's outcome: the unmask requests, not yet sent */
  outcome: StageOutcome;
  /** sites whose masked input is in the sum (they passed the consistency check) */
  survivors: string[];
  receipts: Map<string, CheckedReceipt>;
}

/**
 * Stages "SecAgg+ S1-S2" (the graph seed by commit-and-reveal, @concord/secagg seed-flip.ts: the aggregator only
 * relays it) and "SecAgg+ 0-3" (Bell et al. 2020, Alg. 2): advertise keys, share keys, masked input (each reply
 * carries the site's signed receipt, checked here), consistency check. Ends with the unmask requests built but not sent: the
 * charge stage must commit first. `planDrops` are carried into the session's drop list.
 */
export async function collectMaskedInputs(
  deps: {
    rounds: Pick<RoundRepository, 'setState' | 'setParticipant'>;
    connections: Pick<AgentConnectionsRepository, 'socketOf'>;
  },
  ctx: RoundContext,
  plan: TrainingPlan,
  accepted: readonly string[],
  planDrops: readonly StageDrop[],
  onSession: (session: SecAggSession) => void,
): Promise<MaskedInputs> {
  const { federationId, settings, round, roster } = ctx;
  const stageMs = settings.timeouts.stageMs;
  await deps.rounds.setState(round.id, 'training');
  const base = secAggConfigOf(plan);
  const session = new SecAggSession(undefined, deps.connections, federationId, round.id);
  session.drops.push(...planDrops);
  onSession(session);

  const flip = new SeedFlipServer(base);
  const { seed, reveals } = await session.drawSeed(flip, accepted, stageMs);
  ctx.lap('seed');
  const { graphSeed, seedCommitmentsHash } = seed;
  const server = new SecAggServer({
    config: { ...base, graphSeed, seedCommitmentsHash },
    deadline: Date.now() + stageMs,
  });
  session.bind(server);
  await session.advertise(seed.committers, reveals, stageMs);
  let outcome = await session.close(stageMs);
  outcome = await nextStage(session, outcome, stageMs); // key roster -> share keys
  ctx.lap('keys');
  const receipts = new Map<string, CheckedReceipt>();
  const identity = new Map(roster.map((m) => [m.siteId, m.identityPublicKey]));
  if (outcome.status !== 'next') throw abortOf(outcome);
  await session.exchange(outcome.messages, settings.timeouts.trainingMs, (siteId, reply) => {
    const parsed = MaskedUpdateReplySchema.safeParse(reply);
    if (!parsed.success) return { siteId, code: 'E_BAD_MESSAGE', reason: 'malformed masked update' };
    if (plan.privacy.mode !== 'none') {
      const checked = checkRoundReceipt({
        plan,
        siteId,
        receipt: parsed.data.receipt,
        signature: parsed.data.receiptSignature,
        identityPublicKey: identity.get(siteId)!,
      });
      if (!checked.ok) return { siteId, code: checked.code, reason: checked.reason };
      receipts.set(siteId, { receipt: checked.receipt, signature: checked.signature, proof: checked.proof });
    } else if (parsed.data.receipt !== undefined) {
      return { siteId, code: 'E_BAD_MESSAGE', reason: 'a receipt was sent in mode none' };
    }
    return { message: parsed.data.masked };
  });
  outcome = await session.close(stageMs);
  ctx.lap('masked-input');
  outcome = await nextStage(session, outcome, stageMs); // consistency
  if (outcome.status !== 'next') throw abortOf(outcome);
  const survivors = [...server.survivors];
  await deps.rounds.setParticipant(round.id, survivors, { stage: 'update_received' });
  ctx.lap('consistency');
  return { session, outcome, survivors, receipts };
}

/**
 * Stage "SecAgg+ 4" (unmasking): sends the unmask requests (shares of dropped sites' keys, survivors' self-mask
 * seeds) and returns the unmasked sum. Call only after the charge committed. Laps `unmask-collect` (the shares
 * arrive) and `unmask-sum` (secret reconstruction and mask removal: the aggregator's arithmetic).
 */
export async function unmask(
  session: Pick<SecAggSession, 'exchange' | 'close'>,
  outcome: StageOutcome,
  stageMs: number,
  lap: (name: string) => void = () => {},
): Promise<{ sum: Uint32Array; survivors: string[] }> {
  if (outcome.status !== 'next') throw abortOf(outcome);
  await session.exchange(outcome.messages, stageMs);
  lap('unmask-collect');
  const done = await session.close(stageMs);
  lap('unmask-sum');
  if (done.status !== 'done') throw abortOf(done);
  return { sum: done.sum, survivors: done.survivors };
}

/** Sends the open stage's messages, collects replies and closes it. */
export async function nextStage(
  session: Pick<SecAggSession, 'exchange' | 'close'>,
  outcome: StageOutcome,
  timeoutMs: number,
): Promise<StageOutcome> {
  if (outcome.status !== 'next') throw abortOf(outcome);
  await session.exchange(outcome.messages, timeoutMs);
  return session.close(timeoutMs);
}

export function abortOf(outcome: { status: string; error?: SecAggError }): Error {
  return outcome.error ?? new RoundFailure('E_INTERNAL', `unexpected SecAgg+ outcome ${outcome.status}`);
}
