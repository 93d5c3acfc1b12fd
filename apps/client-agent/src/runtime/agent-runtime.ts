import { ConcordError, type ErrorReply } from '@concord/protocol';
import { SecAggError } from '@concord/secagg';
import type { AgentContext } from './context.js';
import { PlanRefusal, verifyPlanMessage } from './plan-check.js';
import { decidePlan } from './plan-decision.js';
import { RoundSession } from './round-session.js';

type Ack = (reply: unknown) => void;

/** The handlers the transport wires to the authenticated socket. Every reply is an ack. */
export interface RuntimeHandlers {
  'round:plan': (message: unknown, ack: Ack) => void;
  'secagg:seed-commit': (request: unknown, ack: Ack) => void;
  'secagg:seed-reveal': (message: unknown, ack: Ack) => void;
  'secagg:advertise': (request: unknown, ack: Ack) => void;
  'secagg:key-roster': (message: unknown, ack: Ack) => void;
  'secagg:share-route': (message: unknown, ack: Ack) => void;
  'secagg:consistency': (message: unknown, ack: Ack) => void;
  'secagg:unmask': (message: unknown, ack: Ack) => void;
  'round:abort': (message: unknown) => void;
  'round:result': (message: unknown) => void;
  'federation:done': (message: unknown) => void;
}

/**
 * The site's side of the round protocol, transport-free: verifies plans against the pinned key, decides on them
 * against the pinned terms and the site's budget guard (plan-decision.ts, coded refusals), runs training and
 * SecAgg+, and keeps at most one round at a time. A refused plan gets the refusal as its only answer.
 *
 * Aborted rounds are counted: once this site revealed its graph-seed value (seed-flip stage S2), a round that ends
 * without its unmask shares sent gave the aggregator one more look at a seed it could throw away. After R such
 * rounds in a row (`maxConsecutiveAborts`, a local setting, default 3, never taken from a plan) the agent stops
 * with E_TOO_MANY_ABORTS, so an aborting aggregator gets at most R draws of the graph per release
 * (docs/threat-model.md, "The graph seed").
 */
export class AgentRuntime {
  private session?: RoundSession;
  private readonly seenRounds = new Set<string>();
  /** highest round number accepted in this process: a reordered (older) plan is refused */
  private lastAcceptedRound = 0;
  private finished?: (rounds: number) => void;
  private failed?: (error: Error) => void;
  private consecutiveAborts = 0;
  private stopped?: ConcordError;
  readonly done: Promise<number>;

  constructor(private readonly context: AgentContext) {
    this.done = new Promise((resolve, reject) => {
      this.finished = resolve;
      this.failed = reject;
    });
    this.done.catch(() => {}); // the transport races it; a runtime used alone may not await it
    const r = context.maxConsecutiveAborts ?? DEFAULT_MAX_CONSECUTIVE_ABORTS;
    if (!Number.isInteger(r) || r < 1) throw new RangeError('maxConsecutiveAborts must be an integer >= 1');
  }

  handlers(): RuntimeHandlers {
    return {
      'round:plan': (message, ack) => ack(this.onPlan(message)),
      'secagg:seed-commit': (request, ack) =>
        this.answer(ack, (s) => {
          const roundId = (request as { roundId?: unknown } | null)?.roundId;
          if (roundId !== s.plan.roundId) throw new SecAggError('E_WRONG_ROUND', 'seed request for another round');
          return s.seedFlip.commit();
        }),
      'secagg:seed-reveal': (message, ack) => this.answer(ack, (s) => s.seedFlip.reveal(message)),
      'secagg:advertise': (message, ack) => this.answer(ack, (s) => s.advertise(message)),
      'secagg:key-roster': (message, ack) => this.answer(ack, (s) => s.client.shareKeys(message)),
      'secagg:share-route': (message, ack) => this.answer(ack, (s) => s.maskedUpdate(message)),
      'secagg:consistency': (message, ack) => this.answer(ack, (s) => s.client.consistencySignature(message)),
      'secagg:unmask': (message, ack) =>
        this.answer(ack, (s) => {
          const reply = s.client.unmaskShares(message);
          this.session = undefined;
          this.consecutiveAborts = 0;
          return reply;
        }),
      'round:abort': (message) => {
        const roundId = (message as { roundId?: unknown } | null)?.roundId;
        if (this.session && roundId === this.session.plan.roundId) {
          const roundNumber = this.session.plan.roundNumber; // before endUnfinished forgets the session
          this.endUnfinished(this.session);
          const code = String((message as { code?: unknown }).code ?? 'E_ROUND_ABORTED').slice(0, 64);
          this.context.onEvent?.({ type: 'round-aborted', roundNumber, roundId: String(roundId), code });
        }
      },
      'round:result': (message) => {
        const m = message as { roundNumber?: unknown; modelVersion?: unknown; kind?: unknown } | null;
        if (typeof m?.roundNumber === 'number' && typeof m.modelVersion === 'number') {
          const type = m.kind === 'evaluation' ? 'round-evaluated' : 'round-released';
          this.context.onEvent?.({ type, roundNumber: m.roundNumber, modelVersion: m.modelVersion });
        }
      },
      'federation:done': (message) => {
        const rounds = Number((message as { rounds?: unknown } | null)?.rounds ?? 0);
        this.context.onEvent?.({ type: 'done', rounds });
        this.finished?.(rounds);
      },
    };
  }

  /** The connection dropped: a round in flight cannot continue (its secrets are wiped). */
  connectionLost(): void {
    if (this.session) this.endUnfinished(this.session);
  }

  /** A round ends without this site's unmask shares: counted once its seed value was revealed (see the class doc). */
  private endUnfinished(session: RoundSession, selfInflicted = false): void {
    const revealed = session.seedFlip.revealed;
    session.abort();
    if (this.session === session) this.session = undefined;
    if (!revealed || selfInflicted) return;
    this.consecutiveAborts++;
    const limit = this.context.maxConsecutiveAborts ?? DEFAULT_MAX_CONSECUTIVE_ABORTS;
    if (this.consecutiveAborts >= limit && !this.stopped) {
      this.stopped = new ConcordError(
        'E_TOO_MANY_ABORTS',
        `${this.consecutiveAborts} rounds in a row were aborted after this site revealed its graph-seed value; ` +
          `the agent stops (limit ${limit}: an aggregator that aborts could otherwise redraw the graph at will)`,
      );
      this.context.onEvent?.({ type: 'error', code: this.stopped.code, message: this.stopped.message });
      this.failed?.(this.stopped);
    }
  }

  private onPlan(message: unknown): { ok: true } | ErrorReply {
    let roundNumber = 0;
    try {
      const { plan, weights } = verifyPlanMessage(message, this.context.identity, this.seenRounds, new Date());
      if (this.stopped) throw new PlanRefusal(this.stopped.code, this.stopped.message);
      roundNumber = plan.roundNumber;
      this.seenRounds.add(plan.roundId);
      if (plan.roundNumber <= this.lastAcceptedRound) {
        throw new PlanRefusal(
          'E_ROUND_ORDER',
          `round ${plan.roundNumber} is not after the last round this agent accepted (${this.lastAcceptedRound})`,
        );
      }
      const decision = decidePlan(plan, this.context.identity, this.context.budget);
      this.lastAcceptedRound = plan.roundNumber;
      this.context.onEvent?.({
        type: 'plan-accepted',
        roundNumber: plan.roundNumber,
        epsilonAfter: decision.epsilonAfter,
      });
      if (this.session) this.endUnfinished(this.session);
      this.session = new RoundSession(plan, weights, this.context, decision);
      return { ok: true };
    } catch (error) {
      const code = error instanceof PlanRefusal ? error.code : 'E_INTERNAL';
      const reason = error instanceof Error ? error.message : 'plan refused';
      this.context.onEvent?.({ type: 'plan-refused', roundNumber, code, reason });
      return { ok: false, code, reason: reason.slice(0, 500) };
    }
  }

  private answer(ack: Ack, step: (session: RoundSession) => unknown): void {
    const session = this.session;
    if (!session) return ack({ ok: false, code: 'E_NOT_IN_ROUND', reason: 'no round in progress' });
    Promise.resolve()
      .then(() => step(session))
      .then(ack, (error: unknown) => {
        const code = (error as { code?: unknown }).code;
        const safeCode = typeof code === 'string' && /^E_[A-Z0-9_]+$/.test(code) ? code : 'E_INTERNAL';
        if (this.session === session) this.endUnfinished(session, safeCode === 'E_SIMULATED_DROPOUT');
        this.context.onEvent?.({
          type: 'error',
          code: safeCode,
          message: error instanceof Error ? error.message : String(error),
        });
        ack({ ok: false, code: safeCode, reason: (error instanceof Error ? error.message : 'failed').slice(0, 500) });
      });
  }
}

/** R: aborted rounds in a row (after the seed reveal) the agent tolerates before it stops (E_TOO_MANY_ABORTS). */
export const DEFAULT_MAX_CONSECUTIVE_ABORTS = 3;
