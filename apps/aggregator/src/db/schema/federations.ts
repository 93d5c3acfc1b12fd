import { jsonb, pgEnum, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { createdAt } from './columns.js';

/** `exhausted`: terminal, too few sites have budget left for another round (each site's cap vs its ledger charges). */
export const federationStatus = pgEnum('federation_status', [
  'draft',
  'active',
  'paused',
  'completed',
  'exhausted',
  'archived',
]);
/** Every federation status, the one list the API, its OpenAPI document and the CLI take theirs from. */
export const FEDERATION_STATUSES = federationStatus.enumValues;

/** A coded, human-readable reason attached to a federation's status. */
export interface FederationStatusReason {
  code: string;
  message: string;
}

/** A federation: the operator's spec (model, dataset schema, DP settings, rounds, cohort) and where it stands. */
export const federations = pgTable('federations', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  /**
   * The engine settings the operator's spec resolves into (federation/settings.ts FederationSettings); column
   * `settings` (migration 0005 renamed it from `spec`), property `spec` so REST and JSON names stay.
   */
  spec: jsonb('settings').$type<Record<string, unknown>>().notNull(),
  status: federationStatus('status').notNull().default('draft'),
  /** Why the federation is not progressing right now (database unreachable, waiting for sites...); null when it is. */
  statusReason: jsonb('status_reason').$type<FederationStatusReason>(),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export type Federation = typeof federations.$inferSelect;
export type NewFederation = typeof federations.$inferInsert;
