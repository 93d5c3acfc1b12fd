import { and, asc, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import {
  ConcordError,
  parsePrivacyReceipt,
  isProvenReceipt,
  receiptHash,
  verifyReceiptSignature,
  type PrivacyReceipt,
  type ReceiptProof,
} from '@concord/protocol';
import type { Db, Executor, Tx } from '../db/client.js';
import { GENESIS_HASH, computeEntryHash } from '../ledger/chain.js';
import { formatLedgerExport } from '../ledger/export.js';
import { verifyLedgerEntries, type LedgerHead, type LedgerVerification } from '../ledger/verify.js';
import { privacyLedger, type PrivacyLedgerRow } from '../db/schema/privacy-ledger.js';
import { SiteRepository } from './site.repository.js';

export type LedgerErrorCode =
  | 'E_LEDGER_RECEIPT_INVALID'
  | 'E_LEDGER_RECEIPT_MISMATCH'
  | 'E_LEDGER_UNKNOWN_SITE'
  | 'E_LEDGER_SIGNATURE'
  | 'E_LEDGER_SITE_SEQUENCE'
  | 'E_LEDGER_DOUBLE_CHARGE';

/** A charge the ledger refuses. Nothing is written; the caller's transaction should roll back. */
export class LedgerError extends ConcordError {
  constructor(
    override readonly code: LedgerErrorCode,
    message: string,
  ) {
    super(code, message);
    this.name = 'LedgerError';
  }
}

export interface LedgerAppendInput {
  federationId: string;
  siteId: string;
  roundId: string;
  /** the site's receipt, exactly as it signed it */
  receipt: PrivacyReceipt;
  /** the site's Ed25519 signature over the receipt's RFC 8785 bytes, base64 */
  signature: string;
  /**
   * The caller's proof (@concord/protocol verifyReceiptWithProof) that this signature verified over this receipt
   * under some key: when that key is the one read here under the lock, the signature is not verified again.
   */
  proof?: ReceiptProof;
}

/** Lock namespace: one transaction-scoped advisory lock per federation serializes its appends. */
const LEDGER_LOCK_PREFIX = 'concord.privacy_ledger:';
const UNIQUE_VIOLATION = '23505';

/**
 * The privacy ledger. Appends run inside the caller's transaction, so a charge and the round's state change commit
 * (or roll back) together; a per-federation `pg_advisory_xact_lock` serializes appends so the chain never forks (the
 * UNIQUE (federation, prev_hash) constraint would refuse a fork anyway). The database refuses UPDATE and DELETE.
 *
 * Use READ COMMITTED (the default) for the caller's transaction: under REPEATABLE READ or SERIALIZABLE the snapshot
 * may predate the lock, the head read is stale and the insert fails on the chain's unique constraints (no fork, but
 * the caller must retry). Inside a transaction, query only through `tx`: PGlite has one connection, and a query on
 * the outer handle waits for the transaction to end.
 */
export class LedgerRepository {
  constructor(
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
    /** the enrolled sites' identity keys (the `sites` table is SiteRepository's) */
    private readonly sites: Pick<SiteRepository, 'identityKeys' | 'identityKeysOf'> = new SiteRepository(db),
  ) {}

  /**
   * Appends one charge inside `tx` (the caller's transaction; given the db, it opens its own). Checks that the
   * receipt is valid, names this federation, site and round, is signed by the site's identity key, continues the
   * site's own receipt sequence, and is the site's first charge for the round. Throws LedgerError (with a code)
   * otherwise; database errors (constraint violations, lost connections) pass through unchanged.
   */
  async append(tx: Executor, input: LedgerAppendInput): Promise<PrivacyLedgerRow> {
    const [row] = await this.appendMany(tx, [input]);
    return row;
  }

  /**
   * Appends a cohort's charges, in order, inside `tx`, with exactly `append`'s checks for each (the first failing
   * charge, in order, throws the error `append` would have thrown, and nothing is written), but with one lock, one
   * read of the keys, earlier charges and head, and one insert for the lot instead of six statements per charge.
   * All charges must name one federation.
   */
  async appendMany(tx: Executor, inputs: readonly LedgerAppendInput[]): Promise<PrivacyLedgerRow[]> {
    if (inputs.length === 0) return [];
    // Without a transaction the advisory lock would be released at once: open one.
    if (!isTransaction(tx)) return tx.transaction((inner) => this.appendMany(inner, inputs));
    const federationId = inputs[0].federationId;
    if (inputs.some((i) => i.federationId !== federationId)) {
      throw new RangeError('appendMany: every charge must name the same federation');
    }
    const parsed = inputs.map(parseCharge);
    // the first charge that is refused before the lock is refused before any statement, as `append` does
    if (parsed[0] instanceof LedgerError) throw parsed[0];

    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${LEDGER_LOCK_PREFIX + federationId}, 0))`);

    const siteIds = [...new Set(inputs.map((i) => i.siteId))];
    const roundIds = [...new Set(inputs.map((i) => i.roundId))];
    const keys = await this.sites.identityKeysOf(tx, federationId, siteIds);
    const charged = await tx
      .select({ siteId: privacyLedger.siteId, roundId: privacyLedger.roundId })
      .from(privacyLedger)
      .where(
        and(
          eq(privacyLedger.federationId, federationId),
          inArray(privacyLedger.siteId, siteIds),
          inArray(privacyLedger.roundId, roundIds),
        ),
      );
    const chargedPairs = new Set(charged.map((c) => `${c.siteId}\n${c.roundId}`));
    // each site's newest charge: what its next receipt must extend (updated as this batch extends it)
    const previous = new Map<string, { sequence: number; receiptHash: string }>();
    const newest = await tx
      .selectDistinctOn([privacyLedger.siteId], {
        siteId: privacyLedger.siteId,
        receipt: privacyLedger.receipt,
        receiptHash: privacyLedger.receiptHash,
      })
      .from(privacyLedger)
      .where(and(eq(privacyLedger.federationId, federationId), inArray(privacyLedger.siteId, siteIds)))
      .orderBy(privacyLedger.siteId, desc(privacyLedger.seq));
    for (const n of newest) previous.set(n.siteId, { sequence: n.receipt.sequence, receiptHash: n.receiptHash });

    let head = await this.headIn(tx, federationId);
    const rows: (typeof privacyLedger.$inferInsert)[] = [];
    for (const [k, input] of inputs.entries()) {
      const receipt = parsed[k];
      if (receipt instanceof LedgerError) throw receipt;
      const { siteId, roundId, signature } = input;
      const publicKey = keys.get(siteId);
      if (publicKey === undefined)
        throw new LedgerError('E_LEDGER_UNKNOWN_SITE', `site ${siteId} is not enrolled in federation ${federationId}`);
      // Skipping the second verification is safe: a proof is minted only by a successful verification and records
      // the key, the receipt's canonical bytes and the signature it accepted; Ed25519 verification is a pure
      // function of those three, and isProvenReceipt compares all three with what is stored here (the key read
      // under this lock, so a key changed since admission is verified afresh, as is anything without a proof).
      if (!isProvenReceipt(input.proof, receipt, signature, publicKey) && !safeVerify(receipt, signature, publicKey)) {
        throw new LedgerError('E_LEDGER_SIGNATURE', `receipt of site ${siteId}: signature does not verify`);
      }
      if (chargedPairs.has(`${siteId}\n${roundId}`)) throw doubleCharge(siteId, roundId);
      const previousOfSite = previous.get(siteId);
      const expectedSequence = (previousOfSite?.sequence ?? 0) + 1;
      if (receipt.sequence !== expectedSequence) {
        throw new LedgerError(
          'E_LEDGER_SITE_SEQUENCE',
          `receipt of site ${siteId}: sequence ${receipt.sequence}, expected ${expectedSequence}`,
        );
      }
      if (receipt.previousReceiptHash !== (previousOfSite?.receiptHash ?? null)) {
        throw new LedgerError(
          'E_LEDGER_SITE_SEQUENCE',
          `receipt of site ${siteId}: previousReceiptHash does not name the site's previous receipt`,
        );
      }
      const seq = head.seq + 1;
      const recordedAt = this.clock();
      const hashOfReceipt = receiptHash(receipt);
      const entryHash = computeEntryHash(head.hash, {
        federationId,
        seq,
        siteId,
        roundId,
        receiptHash: hashOfReceipt,
        signature,
        recordedAt: recordedAt.toISOString(),
      });
      rows.push({
        federationId,
        seq,
        siteId,
        roundId,
        receipt,
        receiptHash: hashOfReceipt,
        signature,
        prevHash: head.hash,
        entryHash,
        recordedAt,
      });
      head = { seq, hash: entryHash };
      chargedPairs.add(`${siteId}\n${roundId}`);
      previous.set(siteId, { sequence: receipt.sequence, receiptHash: hashOfReceipt });
    }
    try {
      const inserted = await tx.insert(privacyLedger).values(rows).returning();
      return inserted.sort((a, b) => a.seq - b.seq);
    } catch (error) {
      if (postgresErrorCode(error) === UNIQUE_VIOLATION && /site_round/.test(errorText(error))) {
        // only a writer that skips the lock gets here; the batch names its first charge
        throw doubleCharge(inputs[0].siteId, inputs[0].roundId);
      }
      throw error;
    }
  }

  /** The newest entry's seq and hash (seq 0 and GENESIS_HASH for an empty ledger): what an auditor keeps. */
  head(federationId: string): Promise<LedgerHead> {
    return this.headIn(this.db, federationId);
  }

  /** Entries in seq order, `afterSeq` exclusive, at most `limit` (default all). */
  async entries(
    federationId: string,
    options: { afterSeq?: number; limit?: number } = {},
  ): Promise<PrivacyLedgerRow[]> {
    const query = this.db
      .select()
      .from(privacyLedger)
      .where(and(eq(privacyLedger.federationId, federationId), gt(privacyLedger.seq, options.afterSeq ?? 0)))
      .orderBy(asc(privacyLedger.seq));
    return options.limit === undefined ? query : query.limit(options.limit);
  }

  /** Each site's newest charged receipt (sequence and hash): the chain head its next receipt must extend. */
  async lastReceipts(federationId: string): Promise<Map<string, { sequence: number; receiptHash: string }>> {
    const rows = await this.db
      .select({
        siteId: privacyLedger.siteId,
        seq: privacyLedger.seq,
        receipt: privacyLedger.receipt,
        hash: privacyLedger.receiptHash,
      })
      .from(privacyLedger)
      .where(eq(privacyLedger.federationId, federationId))
      .orderBy(privacyLedger.seq);
    const heads = new Map<string, { sequence: number; receiptHash: string }>();
    for (const r of rows) heads.set(r.siteId, { sequence: r.receipt.sequence, receiptHash: r.hash });
    return heads;
  }

  /** Re-checks the whole chain (hashes, links, signatures, per-site sequences), naming the seq of every finding. */
  async verifyLedger(federationId: string): Promise<LedgerVerification> {
    const [entries, keys] = await Promise.all([this.entries(federationId), this.sites.identityKeys(federationId)]);
    return verifyLedgerEntries(entries, keys);
  }

  /** The federation's whole ledger and its sites' public keys as JSON lines (see ledger/export.ts). */
  async exportLedger(federationId: string): Promise<string> {
    const [entries, publicKeys] = await Promise.all([
      this.entries(federationId),
      this.sites.identityKeys(federationId),
    ]);
    const last = entries.at(-1);
    const head = last ? { seq: last.seq, hash: last.entryHash } : { seq: 0, hash: GENESIS_HASH };
    return formatLedgerExport({ federationId, head, exportedAt: this.clock().toISOString(), publicKeys, entries });
  }

  private async headIn(executor: Executor, federationId: string): Promise<LedgerHead> {
    const [last] = await executor
      .select({ seq: privacyLedger.seq, hash: privacyLedger.entryHash })
      .from(privacyLedger)
      .where(eq(privacyLedger.federationId, federationId))
      .orderBy(desc(privacyLedger.seq))
      .limit(1);
    return last ?? { seq: 0, hash: GENESIS_HASH };
  }
}

function isTransaction(executor: Executor): executor is Tx {
  return executor instanceof PgTransaction;
}

/** The receipt of a charge, parsed and matched to the charge's federation, site and round; or why not. */
function parseCharge(input: LedgerAppendInput): PrivacyReceipt | LedgerError {
  let receipt: PrivacyReceipt;
  try {
    receipt = parsePrivacyReceipt(input.receipt);
  } catch (error) {
    return new LedgerError('E_LEDGER_RECEIPT_INVALID', (error as Error).message);
  }
  for (const field of ['federationId', 'siteId', 'roundId'] as const) {
    if (receipt[field] !== input[field]) {
      return new LedgerError('E_LEDGER_RECEIPT_MISMATCH', `receipt: ${field} does not match the charge's ${field}`);
    }
  }
  return receipt;
}

function doubleCharge(siteId: string, roundId: string): LedgerError {
  return new LedgerError('E_LEDGER_DOUBLE_CHARGE', `site ${siteId} is already charged for round ${roundId}`);
}

function safeVerify(receipt: PrivacyReceipt, signature: string, publicKey: string): boolean {
  try {
    return verifyReceiptSignature(receipt, signature, publicKey);
  } catch {
    return false;
  }
}

/** The SQLSTATE of a driver error, looking through drizzle's DrizzleQueryError wrapper. */
export function postgresErrorCode(error: unknown): string | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

function errorText(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const extra = e as { constraint?: string; constraint_name?: string };
    parts.push(e.message, extra.constraint ?? '', extra.constraint_name ?? '');
  }
  return parts.join(' ');
}
