/**
 * The privacy ledger's hash chain (one chain per federation).
 *
 *   entryHash(n) = SHA-256( bytes(prevHash(n)) || UTF-8( RFC 8785 canonical JSON of the entry body ) )
 *   prevHash(1) = GENESIS_HASH (32 zero bytes), prevHash(n) = entryHash(n - 1)
 *
 * The entry body binds the position (federation, seq), who was charged for what (site, round), the receipt (by its
 * hash; the receipt's own bytes are committed by that hash) with the site's signature, and the time it was recorded.
 * Hashes are lowercase hex. Pure: no I/O.
 */
import { canonicalJsonBytes, sha256Hex } from '@concord/protocol';

export const GENESIS_HASH = '0'.repeat(64);

export interface LedgerEntryBody {
  federationId: string;
  seq: number;
  siteId: string;
  roundId: string;
  receiptHash: string;
  signature: string;
  /** when the charge was recorded, ISO 8601 UTC with milliseconds (Date#toISOString) */
  recordedAt: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The canonical bytes of an entry body (RFC 8785). */
export function canonicalEntryBytes(body: LedgerEntryBody): Uint8Array {
  return canonicalJsonBytes({
    federationId: body.federationId,
    seq: body.seq,
    siteId: body.siteId,
    roundId: body.roundId,
    receiptHash: body.receiptHash,
    signature: body.signature,
    recordedAt: body.recordedAt,
  });
}

/** entryHash = SHA-256(prevHash bytes || canonical body), lowercase hex. */
export function computeEntryHash(prevHash: string, body: LedgerEntryBody): string {
  if (typeof prevHash !== 'string') throw new TypeError('prevHash: expected a hex string');
  if (!HEX64.test(prevHash)) throw new RangeError('prevHash: expected 64 lowercase hex characters');
  const bodyBytes = canonicalEntryBytes(body);
  const input = new Uint8Array(32 + bodyBytes.length);
  input.set(Buffer.from(prevHash, 'hex'), 0);
  input.set(bodyBytes, 32);
  return sha256Hex(input);
}
