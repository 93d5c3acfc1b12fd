import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { roundParticipants, type RoundParticipant } from '../db/schema/round-participants.js';
import { rounds, type Round } from '../db/schema/rounds.js';
import { countOf, paged, type Page, type Paged } from './paging.js';

/** Rounds and their participants as operators see them (the round engine writes through RoundRepository). */
export class RoundQueryRepository {
  constructor(private readonly db: Db) {}

  listRounds(federationId: string, filter: { state?: Round['state'] }, page: Page): Promise<Paged<Round>> {
    const where = and(eq(rounds.federationId, federationId), filter.state ? eq(rounds.state, filter.state) : undefined);
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
