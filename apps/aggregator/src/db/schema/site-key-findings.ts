import { index, pgTable, serial, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * What migration 0007 found wrong with the keys already stored in `sites` when it ran (one row per site, key field
 * and reason; the same codes as services/site-key-report.ts). A report only: no row of `sites` is ever rewritten, and
 * the operator re-enrolls or revokes the site. No foreign key: a finding outlives what the operator does about it.
 */
export const siteKeyFindings = pgTable(
  'site_key_findings',
  {
    id: serial('id').primaryKey(),
    siteId: uuid('site_id').notNull(),
    federationId: uuid('federation_id').notNull(),
    /** 'identityPublicKey' or 'keyAgreementPublicKey' (the API's names for sites.identity_public_key and ...) */
    field: text('field').notNull(),
    /** E_KEY_ENCODING, E_KEY_NONCANONICAL, E_KEY_SMALL_ORDER, E_KEY_LOW_ORDER or E_DUPLICATE_KEY */
    code: text('code').notNull(),
    /** the migration (or tool) that recorded it */
    foundBy: text('found_by').notNull(),
    foundAt: timestamp('found_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('site_key_findings_site_idx').on(t.siteId)],
);

export type SiteKeyFindingRow = typeof siteKeyFindings.$inferSelect;
