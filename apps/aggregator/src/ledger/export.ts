/**
 * The ledger's JSON-lines export: everything an auditor needs to verify a federation's chain offline, with neither the
 * aggregator nor its database. One JSON object per line, in this order:
 *
 *   {"type":"ledger","version":1,"federationId":"...","head":{"seq":N,"hash":"..."},"exportedAt":"ISO"}
 *   {"type":"site","siteId":"...","publicKey":"base64 raw Ed25519"}            (one per site)
 *   {"type":"entry","seq":1,"federationId":...,"recordedAt":"ISO",...}        (one per entry, seq order)
 *
 * The header's head is what the exporter saw; `verifyLedgerEntries` recomputes the head from the entries, and an
 * auditor compares either with a head kept earlier (a chain cannot reveal that its newest entries were cut off).
 */
import { ConcordError } from '@concord/protocol';
import { z } from 'zod';
import type { LedgerEntryInput, LedgerHead } from './verify.js';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

const headerLine = z
  .object({
    type: z.literal('ledger'),
    version: z.literal(1),
    federationId: z.string().min(1),
    head: z.object({ seq: z.number().int().min(0), hash: hex64 }).strict(),
    exportedAt: z.string(),
  })
  .strict();
const siteLine = z.object({ type: z.literal('site'), siteId: z.string().min(1), publicKey: z.string() }).strict();
const entryLine = z
  .object({
    type: z.literal('entry'),
    federationId: z.string(),
    seq: z.number(),
    siteId: z.string(),
    roundId: z.string(),
    // the receipt is checked by the verifier, which reports a bad one as a finding with its seq
    receipt: z.unknown(),
    receiptHash: z.string(),
    signature: z.string(),
    prevHash: z.string(),
    entryHash: z.string(),
    recordedAt: z.string(),
  })
  .strict();

export interface LedgerExport {
  federationId: string;
  /** the head the exporter saw */
  head: LedgerHead;
  exportedAt: string;
  publicKeys: Map<string, string>;
  entries: LedgerEntryInput[];
}

/** A line that is not JSON or not a valid export line; `line` is 1-based. */
export class LedgerExportError extends ConcordError {
  override readonly code = 'E_LEDGER_EXPORT_INVALID';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super('E_LEDGER_EXPORT_INVALID', `ledger export line ${line}: ${message}`);
    this.name = 'LedgerExportError';
  }
}

/** Serializes one federation's ledger (entries in seq order) and its sites' keys as JSON lines, newline-terminated. */
export function formatLedgerExport(data: LedgerExport): string {
  const lines: unknown[] = [
    { type: 'ledger', version: 1, federationId: data.federationId, head: data.head, exportedAt: data.exportedAt },
  ];
  for (const [siteId, publicKey] of data.publicKeys) lines.push({ type: 'site', siteId, publicKey });
  for (const e of data.entries) {
    lines.push({
      type: 'entry',
      federationId: e.federationId,
      seq: e.seq,
      siteId: e.siteId,
      roundId: e.roundId,
      receipt: e.receipt,
      receiptHash: e.receiptHash,
      signature: e.signature,
      prevHash: e.prevHash,
      entryHash: e.entryHash,
      recordedAt: e.recordedAt instanceof Date ? e.recordedAt.toISOString() : e.recordedAt,
    });
  }
  return lines.map((line) => JSON.stringify(line)).join('\n') + '\n';
}

/**
 * Parses a JSON-lines export. Entries keep the order of the file (the verifier reports reordering). Throws
 * LedgerExportError naming the first bad line; blank lines are ignored.
 */
export function parseLedgerExport(text: string): LedgerExport {
  if (typeof text !== 'string') throw new TypeError('text: expected a string');
  let header: z.infer<typeof headerLine> | undefined;
  const publicKeys = new Map<string, string>();
  const entries: LedgerEntryInput[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new LedgerExportError(i + 1, 'not valid JSON');
    }
    if (header === undefined) {
      const parsed = headerLine.safeParse(value);
      if (!parsed.success) throw new LedgerExportError(i + 1, `expected the ledger header (${describe(parsed.error)})`);
      header = parsed.data;
      continue;
    }
    const type = (value as { type?: unknown } | null)?.type;
    if (type === 'site') {
      const parsed = siteLine.safeParse(value);
      if (!parsed.success) throw new LedgerExportError(i + 1, `bad site line (${describe(parsed.error)})`);
      if (publicKeys.has(parsed.data.siteId))
        throw new LedgerExportError(i + 1, `site ${parsed.data.siteId} listed twice`);
      publicKeys.set(parsed.data.siteId, parsed.data.publicKey);
    } else if (type === 'entry') {
      const parsed = entryLine.safeParse(value);
      if (!parsed.success) throw new LedgerExportError(i + 1, `bad entry line (${describe(parsed.error)})`);
      const { type: _type, ...entry } = parsed.data;
      entries.push(entry);
    } else {
      throw new LedgerExportError(i + 1, 'expected a line of type "site" or "entry"');
    }
  }
  if (header === undefined) throw new LedgerExportError(1, 'empty export: no ledger header');
  return { federationId: header.federationId, head: header.head, exportedAt: header.exportedAt, publicKeys, entries };
}

function describe(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}
