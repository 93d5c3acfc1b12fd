import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ed25519PublicKeyFromSeed, receiptHash, signReceipt, type PrivacyReceipt } from '@concord/protocol';
import { GENESIS_HASH, computeEntryHash } from './chain.js';
import { LedgerExportError, formatLedgerExport, parseLedgerExport } from './export.js';
import { verifyLedgerEntries, type LedgerEntryInput } from './verify.js';

const FEDERATION = '7b0c2a5e-0000-4000-8000-000000000001';
const siteIds = ['site-a', 'site-b', 'site-c'];
const seeds = new Map(siteIds.map((id) => [id, new Uint8Array(createHash('sha256').update(id).digest())]));
const publicKeys = new Map(siteIds.map((id) => [id, ed25519PublicKeyFromSeed(seeds.get(id)!)]));

/** A valid chain: entry i charges site siteOrder[i] for round `round-i`. */
function buildChain(siteOrder: readonly number[]): LedgerEntryInput[] {
  const lastOfSite = new Map<string, { sequence: number; hash: string }>();
  const entries: LedgerEntryInput[] = [];
  let prevHash = GENESIS_HASH;
  siteOrder.forEach((siteIndex, i) => {
    const siteId = siteIds[siteIndex];
    const last = lastOfSite.get(siteId);
    const receipt: PrivacyReceipt = {
      version: 1,
      federationId: FEDERATION,
      siteId,
      roundId: `round-${i}`,
      sequence: (last?.sequence ?? 0) + 1,
      previousReceiptHash: last?.hash ?? null,
      mode: 'local',
      sampleRate: 0.02,
      noiseMultiplier: 0.9 + i / 100,
      steps: 50,
      clipNorm: 1.5,
      delta: 1e-6,
      cap: { epsilon: 4, delta: 1e-6 },
    };
    const hash = receiptHash(receipt);
    const signature = signReceipt(receipt, seeds.get(siteId)!);
    const recordedAt = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    const body = {
      federationId: FEDERATION,
      seq: i + 1,
      siteId,
      roundId: receipt.roundId,
      receiptHash: hash,
      signature,
      recordedAt,
    };
    const entryHash = computeEntryHash(prevHash, body);
    entries.push({ ...body, receipt, prevHash, entryHash });
    lastOfSite.set(siteId, { sequence: receipt.sequence, hash });
    prevHash = entryHash;
  });
  return entries;
}

/** Recomputes every entry hash from `from` on, as a forger with database access would. */
function relink(entries: LedgerEntryInput[], from: number): void {
  for (let i = from; i < entries.length; i++) {
    const prevHash = i === 0 ? GENESIS_HASH : entries[i - 1].entryHash;
    entries[i] = {
      ...entries[i],
      prevHash,
      entryHash: computeEntryHash(prevHash, { ...entries[i], recordedAt: String(entries[i].recordedAt) }),
    };
  }
}

const siteOrder = fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 2, maxLength: 10 });

describe('computeEntryHash', () => {
  it('matches a hand-written RFC 8785 encoding hashed after the previous hash bytes', () => {
    const body = {
      federationId: 'f',
      seq: 1,
      siteId: 's',
      roundId: 'r',
      receiptHash: 'ab'.repeat(32),
      signature: 'c2ln',
      recordedAt: '2026-01-01T00:00:00.000Z',
    };
    // keys sorted by UTF-16 code units, no whitespace (RFC 8785 section 3.2.3)
    const canonical =
      '{"federationId":"f","receiptHash":"' +
      'ab'.repeat(32) +
      '","recordedAt":"2026-01-01T00:00:00.000Z",' +
      '"roundId":"r","seq":1,"signature":"c2ln","siteId":"s"}';
    const expected = createHash('sha256').update(Buffer.alloc(32)).update(canonical).digest('hex');
    expect(computeEntryHash(GENESIS_HASH, body)).toBe(expected);
  });

  it('guards its previous hash', () => {
    const body = buildChain([0])[0];
    expect(() => computeEntryHash(42 as unknown as string, { ...body, recordedAt: String(body.recordedAt) })).toThrow(
      TypeError,
    );
    expect(() => computeEntryHash('AB'.repeat(32), { ...body, recordedAt: String(body.recordedAt) })).toThrow(
      RangeError,
    );
  });
});

describe('verifyLedgerEntries', () => {
  it('accepts a valid chain and reports its head; an empty chain has the genesis head', () => {
    fc.assert(
      fc.property(siteOrder, (order) => {
        const entries = buildChain(order);
        const result = verifyLedgerEntries(entries, publicKeys);
        expect(result).toEqual({
          ok: true,
          entries: order.length,
          head: { seq: order.length, hash: entries.at(-1)!.entryHash },
          findings: [],
        });
      }),
      { numRuns: 20 },
    );
    expect(verifyLedgerEntries([], {})).toEqual({
      ok: true,
      entries: 0,
      head: { seq: 0, hash: GENESIS_HASH },
      findings: [],
    });
  });

  it('names the seq of any single altered field of any entry', () => {
    const mutations: Record<string, (e: LedgerEntryInput) => LedgerEntryInput> = {
      noiseMultiplier: (e) => ({ ...e, receipt: { ...(e.receipt as PrivacyReceipt), noiseMultiplier: 9 } }),
      steps: (e) => ({ ...e, receipt: { ...(e.receipt as PrivacyReceipt), steps: 1 } }),
      cap: (e) => ({ ...e, receipt: { ...(e.receipt as PrivacyReceipt), cap: { epsilon: 100, delta: 1e-6 } } }),
      receiptHash: (e) => ({ ...e, receiptHash: 'f'.repeat(64) }),
      signature: (e) => ({ ...e, signature: Buffer.alloc(64, 7).toString('base64') }),
      prevHash: (e) => ({ ...e, prevHash: '1'.repeat(64) }),
      entryHash: (e) => ({ ...e, entryHash: '2'.repeat(64) }),
      recordedAt: (e) => ({ ...e, recordedAt: '2030-01-01T00:00:00.000Z' }),
      roundId: (e) => ({ ...e, roundId: 'another-round' }),
    };
    fc.assert(
      fc.property(siteOrder, fc.nat(), fc.constantFrom(...Object.keys(mutations)), (order, pick, field) => {
        const entries = buildChain(order);
        const index = pick % entries.length;
        entries[index] = mutations[field](entries[index]);
        const result = verifyLedgerEntries(entries, publicKeys);
        expect(result.ok).toBe(false);
        expect(result.findings.map((f) => f.seq)).toContain(index + 1);
      }),
      { numRuns: 150 },
    );
  });

  it('finds a consistent rewrite (receipt altered, every hash recomputed) by the site signature alone', () => {
    const entries = buildChain([0, 1, 2, 0, 1, 2]);
    const keptHead = entries.at(-1)!.entryHash;
    const altered = { ...(entries[3].receipt as PrivacyReceipt), noiseMultiplier: 5 };
    entries[3] = { ...entries[3], receipt: altered, receiptHash: receiptHash(altered) };
    relink(entries, 3);
    const result = verifyLedgerEntries(entries, publicKeys);
    expect(result.findings).toEqual([expect.objectContaining({ seq: 4, kind: 'signature' })]);
    expect(result.head.hash).not.toBe(keptHead);
  });

  it('finds a deleted middle entry, reordered entries and a duplicated charge', () => {
    const chain = buildChain([0, 1, 0, 1, 0]);
    const deleted = verifyLedgerEntries([...chain.slice(0, 2), ...chain.slice(3)], publicKeys);
    expect(deleted.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ seq: 4, kind: 'seq' }),
        expect.objectContaining({ seq: 4, kind: 'link' }),
        expect.objectContaining({ seq: 5, kind: 'site-sequence' }),
      ]),
    );
    const reordered = verifyLedgerEntries([chain[0], chain[2], chain[1], chain[3], chain[4]], publicKeys);
    expect(reordered.findings.map((f) => f.seq)).toEqual(expect.arrayContaining([3, 2]));
    expect(reordered.findings.map((f) => f.kind)).toEqual(expect.arrayContaining(['seq', 'link']));

    const duplicated = buildChain([0, 0]);
    duplicated[1] = {
      ...duplicated[1],
      roundId: duplicated[0].roundId,
      receipt: { ...(duplicated[1].receipt as PrivacyReceipt), roundId: duplicated[0].roundId },
    };
    expect(verifyLedgerEntries(duplicated, publicKeys).findings.map((f) => f.kind)).toContain('double-charge');
  });

  it('cannot see cut-off newest entries by itself: the head kept earlier shows them', () => {
    const chain = buildChain([0, 1, 2, 0]);
    const cut = verifyLedgerEntries(chain.slice(0, 2), publicKeys);
    expect(cut.ok).toBe(true);
    expect(cut.head).not.toEqual(verifyLedgerEntries(chain, publicKeys).head);
  });

  it('reports a site without a public key and a receipt that fails the schema', () => {
    const chain = buildChain([0, 1]);
    const withoutB = new Map([['site-a', publicKeys.get('site-a')!]]);
    expect(verifyLedgerEntries(chain, withoutB).findings).toEqual([
      expect.objectContaining({ seq: 2, kind: 'unknown-site' }),
    ]);
    chain[0] = { ...chain[0], receipt: { ...(chain[0].receipt as PrivacyReceipt), sampleRate: 2 } };
    expect(verifyLedgerEntries(chain, publicKeys).findings).toEqual(
      expect.arrayContaining([expect.objectContaining({ seq: 1, kind: 'receipt' })]),
    );
  });

  it('guards its arguments', () => {
    expect(() => verifyLedgerEntries('x' as unknown as LedgerEntryInput[], publicKeys)).toThrow(TypeError);
    expect(() => verifyLedgerEntries([], null as unknown as Map<string, string>)).toThrow(/publicKeys/);
  });
});

describe('ledger JSON-lines export', () => {
  const exportOf = (entries: LedgerEntryInput[]) =>
    formatLedgerExport({
      federationId: FEDERATION,
      head: verifyLedgerEntries(entries, publicKeys).head,
      exportedAt: '2026-01-02T00:00:00.000Z',
      publicKeys,
      entries,
    });

  it('round-trips to the same verification result', () => {
    fc.assert(
      fc.property(siteOrder, (order) => {
        const entries = buildChain(order);
        const parsed = parseLedgerExport(exportOf(entries));
        expect(parsed.publicKeys).toEqual(publicKeys);
        expect(parsed.entries).toEqual(entries);
        expect(verifyLedgerEntries(parsed.entries, parsed.publicKeys)).toEqual(
          verifyLedgerEntries(entries, publicKeys),
        );
      }),
      { numRuns: 10 },
    );
  });

  it('keeps file order, so swapped lines are findings', () => {
    const lines = exportOf(buildChain([0, 1, 2]))
      .trimEnd()
      .split('\n');
    [lines[4], lines[5]] = [lines[5], lines[4]];
    const parsed = parseLedgerExport(lines.join('\n'));
    expect(verifyLedgerEntries(parsed.entries, parsed.publicKeys).ok).toBe(false);
  });

  it('names the first bad line', () => {
    const text = exportOf(buildChain([0]));
    expect(() => parseLedgerExport('')).toThrow(LedgerExportError);
    expect(() => parseLedgerExport(text + '{oops\n')).toThrow(/line 6: not valid JSON/);
    expect(() => parseLedgerExport(text + '{"type":"other"}\n')).toThrow(/line 6/);
    expect(() => parseLedgerExport('{"type":"entry"}')).toThrow(/line 1: expected the ledger header/);
  });
});
