import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  foreignKey,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import type { PrivacyReceipt } from '@concord/protocol';
import { rounds } from './rounds.js';
import { sites } from './sites.js';

/**
 * The privacy ledger: one hash chain per federation, append-only (a trigger rejects UPDATE, DELETE and TRUNCATE; see
 * the custom migration). `seq` counts from 1 inside a federation. `receiptHash` = sha256 of the receipt's RFC 8785
 * bytes, `signature` the site's Ed25519 signature over those bytes (base64), `prevHash` the previous entry's
 * `entryHash` (64 zeros for the first), `entryHash` = sha256(prevHash bytes || canonical entry), see ledger/chain.ts.
 * UNIQUE (site, round): a site is charged at most once per round. UNIQUE (federation, prev_hash): the chain cannot fork.
 */
export const privacyLedger = pgTable(
  'privacy_ledger',
  {
    federationId: uuid('federation_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    siteId: uuid('site_id').notNull(),
    roundId: uuid('round_id').notNull(),
    receipt: jsonb('receipt').$type<PrivacyReceipt>().notNull(),
    receiptHash: text('receipt_hash').notNull(),
    signature: text('signature').notNull(),
    prevHash: text('prev_hash').notNull(),
    entryHash: text('entry_hash').notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'privacy_ledger_pk', columns: [t.federationId, t.seq] }),
    unique('privacy_ledger_site_round_unique').on(t.siteId, t.roundId),
    unique('privacy_ledger_federation_prev_unique').on(t.federationId, t.prevHash),
    unique('privacy_ledger_entry_hash_unique').on(t.entryHash),
    index('privacy_ledger_site_seq_idx').on(t.siteId, t.seq),
    foreignKey({
      name: 'privacy_ledger_site_fk',
      columns: [t.siteId, t.federationId],
      foreignColumns: [sites.id, sites.federationId],
    }),
    foreignKey({
      name: 'privacy_ledger_round_fk',
      columns: [t.roundId, t.federationId],
      foreignColumns: [rounds.id, rounds.federationId],
    }),
    check('privacy_ledger_seq_positive', sql`${t.seq} >= 1`),
    check('privacy_ledger_receipt_hash_hex', sql`${t.receiptHash} ~ '^[0-9a-f]{64}$'`),
    check('privacy_ledger_prev_hash_hex', sql`${t.prevHash} ~ '^[0-9a-f]{64}$'`),
    check('privacy_ledger_entry_hash_hex', sql`${t.entryHash} ~ '^[0-9a-f]{64}$'`),
  ],
);

export type PrivacyLedgerRow = typeof privacyLedger.$inferSelect;
export type NewPrivacyLedgerRow = typeof privacyLedger.$inferInsert;
