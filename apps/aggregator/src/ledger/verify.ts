/**
 * Verification of a privacy ledger chain, as a pure function over its entries and the sites' public keys, so the
 * repository, the REST API and the offline auditor (`concord audit --ledger FILE.jsonl`) all run the same checks.
 *
 * Checked, for every entry in the order given (which must be seq order):
 * - `seq`: 1, 2, 3... with no gap, repeat or reordering;
 * - `link`: prevHash equals the previous entry's entryHash (GENESIS_HASH for seq 1);
 * - `entry-hash`: entryHash recomputes from the entry (chain.ts);
 * - `receipt`: the receipt passes the schema and names the entry's federation, site and round;
 * - `receipt-hash`: receiptHash recomputes from the receipt's RFC 8785 bytes;
 * - `signature`: the site's Ed25519 signature over the receipt verifies under its public key (`unknown-site` if none);
 * - `site-sequence`: each site's receipts count 1, 2, 3... and each names the hash of the site's previous receipt;
 * - `double-charge`: a (site, round) pair appears once.
 * A chain alone cannot show that its newest entries were cut off: compare `head` with a head kept earlier.
 */
import { parsePrivacyReceipt, receiptHash, verifyReceiptSignature, type PrivacyReceipt } from '@concord/protocol';
import { GENESIS_HASH, computeEntryHash } from './chain.js';

export interface LedgerEntryInput {
  federationId: string;
  seq: number;
  siteId: string;
  roundId: string;
  receipt: unknown;
  receiptHash: string;
  signature: string;
  prevHash: string;
  entryHash: string;
  recordedAt: Date | string;
}

export type LedgerFindingKind =
  | 'seq'
  | 'link'
  | 'entry-hash'
  | 'receipt'
  | 'receipt-hash'
  | 'signature'
  | 'unknown-site'
  | 'site-sequence'
  | 'double-charge';

export interface LedgerFinding {
  /** the seq of the entry the finding is about */
  seq: number;
  kind: LedgerFindingKind;
  message: string;
}

export interface LedgerHead {
  /** 0 for an empty ledger */
  seq: number;
  /** GENESIS_HASH for an empty ledger */
  hash: string;
}

export interface LedgerVerification {
  ok: boolean;
  entries: number;
  /** the last entry's seq and entryHash as stored (whatever the findings) */
  head: LedgerHead;
  findings: LedgerFinding[];
}

/**
 * Verifies `entries` (one federation's chain, in seq order) against `publicKeys` (site id -> raw Ed25519 public key,
 * base64). Never throws on bad entries: every problem becomes a finding naming its seq.
 */
export function verifyLedgerEntries(
  entries: readonly LedgerEntryInput[],
  publicKeys: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
): LedgerVerification {
  if (!Array.isArray(entries)) throw new TypeError('entries: expected an array');
  if (publicKeys === null || typeof publicKeys !== 'object')
    throw new TypeError('publicKeys: expected a Map or object');
  const keyOf = (siteId: string): string | undefined =>
    publicKeys instanceof Map
      ? publicKeys.get(siteId)
      : Object.hasOwn(publicKeys, siteId)
        ? (publicKeys as Record<string, string>)[siteId]
        : undefined;

  const findings: LedgerFinding[] = [];
  const lastReceiptOfSite = new Map<string, { sequence: number; hash: string }>();
  const chargedPairs = new Set<string>();
  const federationId = entries[0]?.federationId;
  let expectedSeq = 1;
  let previousEntryHash = GENESIS_HASH;

  for (const entry of entries) {
    const seq = entry.seq;
    const report = (kind: LedgerFindingKind, message: string) => findings.push({ seq, kind, message });

    if (entry.federationId !== federationId)
      report('receipt', `entry belongs to federation ${entry.federationId}, not ${federationId}`);
    if (seq !== expectedSeq) report('seq', `expected seq ${expectedSeq}, found ${seq}`);
    expectedSeq = (Number.isSafeInteger(seq) ? seq : expectedSeq) + 1;

    if (entry.prevHash !== previousEntryHash) {
      report('link', `prevHash ${entry.prevHash} does not match the previous entry's hash ${previousEntryHash}`);
    }
    previousEntryHash = entry.entryHash;

    const recordedAt = toIsoString(entry.recordedAt);
    let recomputed: string | undefined;
    try {
      if (recordedAt === undefined) throw new RangeError('recordedAt: not a valid time');
      recomputed = computeEntryHash(entry.prevHash, { ...entry, recordedAt });
    } catch (error) {
      report('entry-hash', `entry cannot be hashed: ${(error as Error).message}`);
    }
    if (recomputed !== undefined && recomputed !== entry.entryHash) {
      report('entry-hash', `entryHash ${entry.entryHash} does not match the recomputed ${recomputed}`);
    }

    const pair = `${entry.siteId}/${entry.roundId}`;
    if (chargedPairs.has(pair))
      report('double-charge', `site ${entry.siteId} already charged for round ${entry.roundId}`);
    chargedPairs.add(pair);

    let receipt: PrivacyReceipt;
    try {
      receipt = parsePrivacyReceipt(entry.receipt);
    } catch (error) {
      report('receipt', (error as Error).message);
      continue;
    }
    for (const field of ['federationId', 'siteId', 'roundId'] as const) {
      if (receipt[field] !== entry[field])
        report('receipt', `receipt ${field} ${receipt[field]} differs from the entry's ${entry[field]}`);
    }
    const actualReceiptHash = receiptHash(receipt);
    if (actualReceiptHash !== entry.receiptHash) {
      report('receipt-hash', `receiptHash ${entry.receiptHash} does not match the receipt's ${actualReceiptHash}`);
    }

    const publicKey = keyOf(entry.siteId);
    if (publicKey === undefined) report('unknown-site', `no public key for site ${entry.siteId}`);
    else if (!safeVerify(receipt, entry.signature, publicKey)) {
      report('signature', `the signature of site ${entry.siteId} does not verify over the receipt`);
    }

    const last = lastReceiptOfSite.get(entry.siteId);
    const expectedSequence = (last?.sequence ?? 0) + 1;
    const expectedPrevious = last?.hash ?? null;
    if (receipt.sequence !== expectedSequence) {
      report(
        'site-sequence',
        `site ${entry.siteId}: receipt sequence ${receipt.sequence}, expected ${expectedSequence}`,
      );
    } else if (receipt.previousReceiptHash !== expectedPrevious) {
      report('site-sequence', `site ${entry.siteId}: previousReceiptHash does not name the site's previous receipt`);
    }
    // Chain on the stored hash: an altered receipt is reported once, at its own seq (receipt-hash), not again later.
    lastReceiptOfSite.set(entry.siteId, { sequence: receipt.sequence, hash: entry.receiptHash });
  }

  const last = entries.at(-1);
  return {
    ok: findings.length === 0,
    entries: entries.length,
    head: last ? { seq: last.seq, hash: last.entryHash } : { seq: 0, hash: GENESIS_HASH },
    findings,
  };
}

function toIsoString(value: Date | string): string | undefined {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function safeVerify(receipt: PrivacyReceipt, signature: string, publicKey: string): boolean {
  try {
    return verifyReceiptSignature(receipt, signature, publicKey);
  } catch {
    return false; // malformed signature or key encoding: the signature does not verify
  }
}
