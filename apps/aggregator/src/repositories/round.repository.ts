import { and, asc, desc, eq, inArray, max, sql } from 'drizzle-orm';
import type { Db, Executor } from '../db/client.js';
import { roundParticipants, type RoundParticipant } from '../db/schema/round-participants.js';
import { rounds, type Round, type RoundKind, type RoundState, type StageTimings } from '../db/schema/rounds.js';
import { countOf, paged, type Page, type Paged } from './paging.js';

const UNFINISHED: RoundState[] = ['open', 'training', 'unmasking', 'aggregated'];

/**
 * Rounds (the persisted state machine) and their participants (`rounds`, `round_participants`): the engine's writes
 * and the operators' list and detail.
 */
export class RoundRepository {
  constructor(private readonly db: Db) {}

  /** Creates the next round (number = highest + 1) with its cohort, in one transaction. */
  async open(
    federationId: string,
    siteIds: readonly string[],
    deadline: Date,
    kind: RoundKind = 'training',
  ): Promise<Round> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${'concord.rounds:' + federationId}, 0))`);
      const [{ highest }] = await tx
        .select({ highest: max(rounds.number) })
        .from(rounds)
        .where(eq(rounds.federationId, federationId));
      const [round] = await tx
        .insert(rounds)
        .values({ federationId, number: (highest ?? 0) + 1, kind, state: 'open', trainingDeadlineAt: deadline })
        .returning();
      if (siteIds.length > 0) {
        await tx
          .insert(roundParticipants)
          .values(siteIds.map((siteId) => ({ federationId, roundId: round.id, siteId })));
      }
      return round;
    });
  }

  async get(roundId: string): Promise<Round | undefined> {
    const [row] = await this.db.select().from(rounds).where(eq(rounds.id, roundId));
    return row;
  }

  /** Moves a round to `state` (with optional fields) using `executor` (a transaction or the db). */
  async setState(
    roundId: string,
    state: RoundState,
    patch: {
      plan?: Record<string, unknown>;
      failureReason?: string;
      stageTimings?: StageTimings;
      unmaskingDeadlineAt?: Date;
    } = {},
    executor: Executor = this.db,
  ): Promise<void> {
    await executor
      .update(rounds)
      .set({ state, ...patch, updatedAt: new Date() })
      .where(eq(rounds.id, roundId));
  }

  /**
   * Crash recovery: every round of the federation left in open/training/unmasking/aggregated by a previous process
   * is failed (its charges stay in the ledger; the retry is a new round). Returns how many.
   */
  async failUnfinished(federationId: string, reason: string): Promise<number> {
    const failed = await this.db
      .update(rounds)
      .set({ state: 'failed', failureReason: reason, updatedAt: new Date() })
      .where(and(eq(rounds.federationId, federationId), inArray(rounds.state, UNFINISHED)))
      .returning({ id: rounds.id });
    return failed.length;
  }

  async setParticipant(
    roundId: string,
    siteIds: readonly string[],
    patch: Partial<Pick<RoundParticipant, 'stage' | 'dropped' | 'dropReason'>>,
    executor: Executor = this.db,
  ): Promise<void> {
    if (siteIds.length === 0) return;
    await executor
      .update(roundParticipants)
      .set({ ...patch, ...(patch.dropped ? { droppedAt: new Date() } : {}), updatedAt: new Date() })
      .where(and(eq(roundParticipants.roundId, roundId), inArray(roundParticipants.siteId, [...siteIds])));
  }

  async releasedCount(federationId: string): Promise<number> {
    const [{ n }] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(rounds)
      .where(and(eq(rounds.federationId, federationId), eq(rounds.state, 'released'), eq(rounds.kind, 'training')));
    return Number(n);
  }

  listRounds(
    federationId: string,
    filter: { state?: Round['state']; kind?: RoundKind },
    page: Page,
  ): Promise<Paged<Round>> {
    const where = and(
      eq(rounds.federationId, federationId),
      filter.state ? eq(rounds.state, filter.state) : undefined,
      filter.kind ? eq(rounds.kind, filter.kind) : undefined,
    );
    return paged(
      this.db.select().from(rounds).where(where).orderBy(desc(rounds.number)).limit(page.limit).offset(page.offset),
      countOf(this.db, rounds, where),
      page,
    );
  }
  async round(
    federationId: string,
    roundId: string,
  ): Promise<{ round: Round; participants: RoundParticipant[] } | undefined> {
    const [round] = await this.db
      .select()
      .from(rounds)
      .where(and(eq(rounds.id, roundId), eq(rounds.federationId, federationId)));
    if (!round) return undefined;
    const participants = await this.db
      .select()
      .from(roundParticipants)
      .where(eq(roundParticipants.roundId, roundId))
      .orderBy(asc(roundParticipants.siteId));
    return { round, participants };
  }
  async participantCounts(roundIds: string[]): Promise<Map<string, { cohort: number; dropped: number }>> {
    if (roundIds.length === 0) return new Map();
    const rows = await this.db
      .select({
        roundId: roundParticipants.roundId,
        cohort: sql<number>`count(*)::int`,
        dropped: sql<number>`count(*) filter (where ${roundParticipants.dropped})::int`,
      })
      .from(roundParticipants)
      .where(inArray(roundParticipants.roundId, roundIds))
      .groupBy(roundParticipants.roundId);
    return new Map(rows.map((r) => [r.roundId, { cohort: Number(r.cohort), dropped: Number(r.dropped) }]));
  }
}
