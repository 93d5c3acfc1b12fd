/**
 * `concord audit` against tampered ledgers, on both drivers: rows altered, deleted from the middle, reordered and
 * cut from the end behind the append-only trigger's back (the trigger is disabled for the tampering, as an attacker
 * with the database owner's rights could). Each must be found; the untouched ledger must pass. The CLI is run as the
 * compiled bin: with --ledger FILE.jsonl (no database), and with --database-url on the server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeEpsilon } from '@concord/dp';
import { receiptHash, signReceipt } from '@concord/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerRepository } from '../../apps/aggregator/src/repositories/ledger.repository.js';
import { SiteRepository } from '../../apps/aggregator/src/repositories/site.repository.js';
import { auditLedger } from '../../apps/aggregator/src/ledger/audit.js';
import { createFixture, nextCharge, type Fixture } from './ledger-fixtures.js';
import { CONCORD_BIN, runCli } from '../support/cli.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';

const ROUNDS = 4;
const SITES = 2;

for (const target of databaseTargets()) {
  describe.skipIf(target.skip)(`concord audit finds tampering (${target.name})`, () => {
    let database: TestDatabase;
    let ledger: LedgerRepository;
    let dir: string;

    beforeAll(async () => {
      database = await target.open();
      ledger = new LedgerRepository(database.db);
      dir = mkdtempSync(join(tmpdir(), 'concord-audit-'));
    }, 60_000);
    afterAll(async () => {
      await database?.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    /** A federation with SITES x ROUNDS charges; returns it and the head an auditor would have kept. */
    async function chargedFederation(label: string): Promise<{ fixture: Fixture; head: string }> {
      const fixture = await createFixture(database.db, SITES, ROUNDS, label);
      for (const roundId of fixture.roundIds) {
        for (const site of fixture.sites) await ledger.append(database.db, nextCharge(fixture, site, roundId));
      }
      return { fixture, head: (await ledger.head(fixture.federationId)).hash };
    }

    async function tamper(sql: string): Promise<void> {
      await database.execute(
        `ALTER TABLE privacy_ledger DISABLE TRIGGER privacy_ledger_append_only; ${sql}; ALTER TABLE privacy_ledger ENABLE TRIGGER privacy_ledger_append_only;`,
      );
    }

    async function audit(federationId: string, expectHead?: string) {
      const [entries, publicKeys] = await Promise.all([
        ledger.entries(federationId),
        new SiteRepository(database.db).identityKeys(federationId),
      ]);
      return auditLedger({ entries, publicKeys, expectHead });
    }

    /** Runs the bin on an export file (and, on the server, on the database too); both must agree. */
    async function auditCli(federationId: string, expectHead?: string) {
      const file = join(dir, `${federationId}.jsonl`);
      writeFileSync(file, await ledger.exportLedger(federationId));
      const extra = expectHead ? ['--expect-head', expectHead] : [];
      const fromFile = runCli(CONCORD_BIN, ['audit', '--ledger', file, '--json', ...extra]);
      const result = { status: fromFile.status, json: JSON.parse(fromFile.stdout) };
      if (database.url) {
        const fromDb = runCli(CONCORD_BIN, [
          'audit',
          '--database-url',
          database.url,
          '--federation',
          federationId,
          '--json',
          ...extra,
        ]);
        expect(fromDb.status, fromDb.stderr).toBe(fromFile.status);
        expect(JSON.parse(fromDb.stdout).findings).toEqual(result.json.findings);
      }
      return result;
    }

    it('passes an untouched ledger and recomputes epsilon as libs/dp does (exit 0)', async () => {
      const { fixture, head } = await chargedFederation('clean');
      const cli = await auditCli(fixture.federationId, head);
      expect(cli.status).toBe(0);
      expect(cli.json.ok).toBe(true);
      expect(cli.json.findings).toEqual([]);
      // fixture receipts: q = 0.01, z = 1.1, 100 steps per round, delta 1e-5, cap 8
      const expected = computeEpsilon([{ sampleRate: 0.01, noiseMultiplier: 1.1, steps: 100 * ROUNDS }], 1e-5).epsilon;
      expect(cli.json.sites).toHaveLength(SITES);
      for (const site of cli.json.sites) {
        expect(site.epsilon).toBeCloseTo(expected, 10);
        expect(site).toMatchObject({ delta: 1e-5, cap: 8 });
      }
    }, 60_000);

    it('finds an altered row (exit 1, finding at its seq)', async () => {
      const { fixture } = await chargedFederation('alter');
      await tamper(
        `UPDATE privacy_ledger SET receipt = jsonb_set(receipt, '{noiseMultiplier}', '5') WHERE federation_id = '${fixture.federationId}' AND seq = 3`,
      );
      const report = await audit(fixture.federationId);
      expect(report.ok).toBe(false);
      expect(report.findings.map((f) => [f.seq, f.kind])).toContainEqual([3, 'receipt-hash']);
      const cli = await auditCli(fixture.federationId);
      expect(cli.status).toBe(1);
      expect(cli.json.findings.some((f: { seq: number }) => f.seq === 3)).toBe(true);
    }, 60_000);

    it('finds a deleted middle row', async () => {
      const { fixture } = await chargedFederation('delete');
      await tamper(`DELETE FROM privacy_ledger WHERE federation_id = '${fixture.federationId}' AND seq = 4`);
      const report = await audit(fixture.federationId);
      expect(report.findings.map((f) => [f.seq, f.kind])).toEqual(
        expect.arrayContaining([
          [5, 'seq'],
          [5, 'link'],
        ]),
      );
      expect((await auditCli(fixture.federationId)).status).toBe(1);
    }, 60_000);

    it('finds reordered rows', async () => {
      const { fixture } = await chargedFederation('reorder');
      const f = fixture.federationId;
      await tamper(
        `UPDATE privacy_ledger SET seq = 1000 WHERE federation_id = '${f}' AND seq = 2; ` +
          `UPDATE privacy_ledger SET seq = 2 WHERE federation_id = '${f}' AND seq = 3; ` +
          `UPDATE privacy_ledger SET seq = 3 WHERE federation_id = '${f}' AND seq = 1000`,
      );
      const report = await audit(f);
      expect(report.ok).toBe(false);
      const kinds = new Set(report.findings.filter((x) => x.seq === 2 || x.seq === 3).map((x) => x.kind));
      expect(kinds.has('link')).toBe(true);
      expect(kinds.has('entry-hash')).toBe(true);
      expect((await auditCli(f)).status).toBe(1);
    }, 60_000);

    it('finds newest rows cut off, given the head kept earlier (--expect-head)', async () => {
      const { fixture, head } = await chargedFederation('cut');
      await tamper(`DELETE FROM privacy_ledger WHERE federation_id = '${fixture.federationId}' AND seq > 6`);
      expect((await audit(fixture.federationId)).ok).toBe(true); // a cut chain is still a valid chain...
      const report = await audit(fixture.federationId, head);
      expect(report.findings).toEqual([expect.objectContaining({ seq: 6, kind: 'head' })]); // ...unless a head was kept
      const cli = await auditCli(fixture.federationId, head);
      expect(cli.status).toBe(1);
      expect(cli.json.findings[0]).toMatchObject({ seq: 6, kind: 'head' });
    }, 60_000);

    it('finds a site charged past the cap its own receipts declare', async () => {
      const fixture = await createFixture(database.db, 1, 3, 'cap');
      const site = fixture.sites[0];
      const epsilonAfter = (rounds: number) =>
        computeEpsilon([{ sampleRate: 0.01, noiseMultiplier: 1.1, steps: 100 * rounds }], 1e-5).epsilon;
      const cap = (epsilonAfter(1) + epsilonAfter(2)) / 2; // the second charge crosses it
      for (const roundId of fixture.roundIds) {
        const charge = nextCharge(fixture, site, roundId, false);
        charge.receipt = { ...charge.receipt, cap: { epsilon: cap, delta: 1e-5 } };
        charge.signature = signReceipt(charge.receipt, site.seed);
        await ledger.append(database.db, charge);
        site.sequence += 1;
        site.lastReceiptHash = receiptHash(charge.receipt);
      }
      const report = await audit(fixture.federationId);
      expect(report.findings).toEqual([expect.objectContaining({ seq: 2, kind: 'cap-exceeded' })]);
      expect(report.sites[0].remaining).toBeLessThan(0);
      expect((await auditCli(fixture.federationId)).status).toBe(1);
    }, 60_000);
  });
}

describe('concord audit input errors (exit 2)', () => {
  it('refuses a missing file, a malformed export and a bad --expect-head', () => {
    const dir = mkdtempSync(join(tmpdir(), 'concord-audit-bad-'));
    try {
      expect(runCli(CONCORD_BIN, ['audit', '--ledger', join(dir, 'none.jsonl')]).status).toBe(2);
      writeFileSync(join(dir, 'bad.jsonl'), '{"type":"entry"}\n');
      const bad = runCli(CONCORD_BIN, ['audit', '--ledger', join(dir, 'bad.jsonl'), '--json']);
      expect(bad.status).toBe(2);
      expect(bad.stdout).toBe('');
      expect(bad.stderr).toMatch(/line 1/);
      expect(runCli(CONCORD_BIN, ['audit', '--ledger', join(dir, 'bad.jsonl'), '--expect-head', 'xyz']).status).toBe(2);
      expect(runCli(CONCORD_BIN, ['audit', '--data-dir', join(dir, 'missing')]).status).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
