import { sql } from 'drizzle-orm';
import { check, integer, jsonb, pgEnum, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { createdAt } from './columns.js';
import { federations } from './federations.js';

/** open -> training -> unmasking -> aggregated -> released; any of the first four -> failed. */
export const roundState = pgEnum('round_state', ['open', 'training', 'unmasking', 'aggregated', 'released', 'failed']);
export const ROUND_STATES = roundState.enumValues;
export type RoundState = (typeof ROUND_STATES)[number];

/** Milliseconds spent in each stage, keyed by stage name. */
export type StageTimings = Partial<Record<RoundState, number>> & Record<string, number>;

export const rounds = pgTable(
  'rounds',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    federationId: uuid('federation_id')
      .notNull()
      .references(() => federations.id),
    number: integer('number').notNull(),
    /** training: releases a model version; evaluation: asks the cohort for private evaluation counts of one */
    kind: text('kind', { enum: ['training', 'evaluation'] })
      .notNull()
      .default('training'),
    state: roundState('state').notNull().default('open'),
    /** the training plan sent to the cohort (sample rate, noise multiplier, steps, clip norm, learning rate, delta) */
    plan: jsonb('plan').$type<Record<string, unknown>>(),
    trainingDeadlineAt: timestamp('training_deadline_at', { withTimezone: true }),
    unmaskingDeadlineAt: timestamp('unmasking_deadline_at', { withTimezone: true }),
    stageTimings: jsonb('stage_timings').$type<StageTimings>().notNull().default({}),
    failureReason: text('failure_reason'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('rounds_id_federation_unique').on(t.id, t.federationId),
    unique('rounds_federation_number_unique').on(t.federationId, t.number),
    check('rounds_number_positive', sql`${t.number} >= 1`),
    check('rounds_kind_known', sql`${t.kind} in ('training', 'evaluation')`),
  ],
);

export type Round = typeof rounds.$inferSelect;
export type RoundKind = Round['kind'];
export type NewRound = typeof rounds.$inferInsert;
