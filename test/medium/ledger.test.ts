import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../apps/aggregator/src/db/client.js';
import { GENESIS_HASH } from '../../apps/aggregator/src/ledger/chain.js';
import { parseLedgerExport } from '../../apps/aggregator/src/ledger/export.js';
import { verifyLedgerEntries } from '../../apps/aggregator/src/ledger/verify.js';
import { privacyLedger, rounds } from '../../apps/aggregator/src/db/schema/index.js';
import { LedgerError, LedgerRepository } from '../../apps/aggregator/src/repositories/ledger.repository.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';
import { createFixture, nextCharge } from './ledger-fixtures.js';

/** Every message along an error's cause chain (drizzle wraps driver errors). */
function errorChainText(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause) parts.push(e.message);
  return parts.join(' <- ');
}

async function expectRejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return errorChainText(error);
  }
  throw new Error('expected a rejection');
}

for (const target of databaseTargets()) {
  describe.skipIf(target.skip)(`privacy ledger on ${target.name}`, () => {
    let database: TestDatabase;
    let ledger: LedgerRepository;

    beforeAll(async () => {
      database = await target.open();
      ledger = new LedgerRepository(database.db);
    });
    afterAll(async () => {
      await database?.dispose();
    });

    async function withTriggerDisabled(change: string): Promise<void> {
      await database.execute('ALTER TABLE privacy_ledger DISABLE TRIGGER privacy_ledger_append_only');
      try {
        await database.execute(change);
      } finally {
        await database.execute('ALTER TABLE privacy_ledger ENABLE TRIGGER privacy_ledger_append_only');
      }
    }

    it('100 appends from 10 concurrent callers give one unbroken chain', async () => {
      const fixture = await createFixture(database.db, 10, 10);
      // On the server every caller has its own connections; PGlite has one connection, so its callers are
      // concurrent transactions queued on it.
      const callers: Database[] =
        database.driver === 'postgres'
          ? await Promise.all(fixture.sites.map(() => openDatabase({ url: database.url, maxConnections: 2 })))
          : fixture.sites.map(() => database);
      try {
        await Promise.all(
          fixture.sites.map(async (site, i) => {
            const repository = new LedgerRepository(callers[i].db);
            for (const roundId of fixture.roundIds) {
              const charge = nextCharge(fixture, site, roundId);
              await callers[i].db.transaction((tx) => repository.append(tx, charge));
            }
          }),
        );
      } finally {
        if (database.driver === 'postgres') await Promise.all(callers.map((c) => c.close()));
      }

      const entries = await ledger.entries(fixture.federationId);
      expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(entries[0].prevHash).toBe(GENESIS_HASH);
      for (let i = 1; i < entries.length; i++) expect(entries[i].prevHash).toBe(entries[i - 1].entryHash);
      const verification = await ledger.verifyLedger(fixture.federationId);
      expect(verification.findings).toEqual([]);
      expect(verification.ok).toBe(true);
      // the offline auditor's path: JSON lines out of the database, verified with no database
      const exported = parseLedgerExport(await ledger.exportLedger(fixture.federationId));
      expect(verifyLedgerEntries(exported.entries, exported.publicKeys)).toEqual(verification);
      expect(exported.head).toEqual(verification.head);
      expect(await ledger.head(fixture.federationId)).toEqual({ seq: 100, hash: entries[99].entryHash });
      for (const site of fixture.sites) {
        const sequences = entries.filter((e) => e.siteId === site.id).map((e) => e.receipt.sequence);
        expect(sequences).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      }
    });

    it('opens its own transaction when given the database handle, so concurrent one-off appends still chain', async () => {
      const fixture = await createFixture(database.db, 8, 1);
      await Promise.all(
        fixture.sites.map((site) => ledger.append(database.db, nextCharge(fixture, site, fixture.roundIds[0]))),
      );
      const verification = await ledger.verifyLedger(fixture.federationId);
      expect(verification).toMatchObject({ ok: true, entries: 8, head: { seq: 8 } });
    });

    it('refuses UPDATE, DELETE and TRUNCATE on the ledger with a clear error', async () => {
      const fixture = await createFixture(database.db, 1, 1);
      await ledger.append(database.db, nextCharge(fixture, fixture.sites[0], fixture.roundIds[0]));
      const where = `WHERE federation_id = '${fixture.federationId}'`;

      expect(await expectRejection(database.execute(`UPDATE privacy_ledger SET signature = 'x' ${where}`))).toMatch(
        /privacy_ledger is append-only: UPDATE of entry seq 1 .* refused/,
      );
      expect(await expectRejection(database.execute(`DELETE FROM privacy_ledger ${where}`))).toMatch(
        /privacy_ledger is append-only: DELETE of entry seq 1 .* refused/,
      );
      expect(await expectRejection(database.execute('TRUNCATE privacy_ledger'))).toMatch(
        /privacy_ledger is append-only: TRUNCATE refused/,
      );
      // Through the ORM as well: the database refuses, whatever the client.
      const ormUpdate = database.db
        .update(privacyLedger)
        .set({ receiptHash: GENESIS_HASH })
        .where(eq(privacyLedger.federationId, fixture.federationId));
      expect(await expectRejection(ormUpdate)).toMatch(/append-only/);
      expect(await ledger.entries(fixture.federationId)).toHaveLength(1);
      expect((await ledger.verifyLedger(fixture.federationId)).ok).toBe(true);
    });

    it('names the entry altered behind the trigger (trigger disabled by the owner)', async () => {
      const fixture = await createFixture(database.db, 3, 4);
      for (const roundId of fixture.roundIds) {
        for (const site of fixture.sites) await ledger.append(database.db, nextCharge(fixture, site, roundId));
      }
      expect((await ledger.verifyLedger(fixture.federationId)).ok).toBe(true);

      await withTriggerDisabled(
        `UPDATE privacy_ledger SET receipt = jsonb_set(receipt, '{noiseMultiplier}', '5') ` +
          `WHERE federation_id = '${fixture.federationId}' AND seq = 7`,
      );
      const verification = await ledger.verifyLedger(fixture.federationId);
      expect(verification.ok).toBe(false);
      expect(new Set(verification.findings.map((f) => f.seq))).toEqual(new Set([7]));
      expect(verification.findings.map((f) => f.kind)).toEqual(expect.arrayContaining(['receipt-hash', 'signature']));
    });

    it('names the gap when a middle entry is deleted behind the trigger', async () => {
      const fixture = await createFixture(database.db, 2, 3);
      for (const roundId of fixture.roundIds) {
        for (const site of fixture.sites) await ledger.append(database.db, nextCharge(fixture, site, roundId));
      }
      await withTriggerDisabled(
        `DELETE FROM privacy_ledger WHERE federation_id = '${fixture.federationId}' AND seq = 3`,
      );
      const verification = await ledger.verifyLedger(fixture.federationId);
      expect(verification.ok).toBe(false);
      expect(verification.findings).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ seq: 4, kind: 'seq' }),
          expect.objectContaining({ seq: 4, kind: 'link' }),
          // seq 3 was site 0's second receipt: its third (seq 5) no longer follows its first
          expect.objectContaining({ seq: 5, kind: 'site-sequence' }),
        ]),
      );
    });

    it('leaves no half-written charge when the transaction fails', async () => {
      const fixture = await createFixture(database.db, 1, 1);
      const [site] = fixture.sites;
      const roundId = fixture.roundIds[0];
      const charge = nextCharge(fixture, site, roundId);
      const chargeAndMoveRound = (crash: 'throw' | 'constraint' | 'none') =>
        database.db.transaction(async (tx) => {
          await ledger.append(tx, charge);
          await tx
            .update(rounds)
            .set({ state: 'unmasking', number: crash === 'constraint' ? -1 : 1 })
            .where(eq(rounds.id, roundId));
          if (crash === 'throw') throw new Error('crash after the charge');
        });

      expect(await expectRejection(chargeAndMoveRound('throw'))).toMatch(/crash after the charge/);
      expect(await expectRejection(chargeAndMoveRound('constraint'))).toMatch(/rounds_number_positive/);
      expect(await ledger.entries(fixture.federationId)).toEqual([]);
      expect(await ledger.head(fixture.federationId)).toEqual({ seq: 0, hash: GENESIS_HASH });
      const [round] = await database.db.select().from(rounds).where(eq(rounds.id, roundId));
      expect(round.state).toBe('open');

      // The same charge then commits with the round's state change, as one.
      await chargeAndMoveRound('none');
      expect(await ledger.entries(fixture.federationId)).toHaveLength(1);
      const [moved] = await database.db.select().from(rounds).where(eq(rounds.id, roundId));
      expect(moved.state).toBe('unmasking');
      expect((await ledger.verifyLedger(fixture.federationId)).ok).toBe(true);
    });

    it('charges a whole cohort with the round state change in one transaction: all or nothing', async () => {
      const fixture = await createFixture(database.db, 4, 1);
      const roundId = fixture.roundIds[0];
      const chargeCohort = (charges: ReturnType<typeof nextCharge>[]) =>
        database.db.transaction(async (tx) => {
          for (const charge of charges) await ledger.append(tx, charge);
          await tx.update(rounds).set({ state: 'unmasking' }).where(eq(rounds.id, roundId));
        });

      // the last member's receipt is forged: nobody is charged and the round does not move
      const forgedCohort = fixture.sites.map((site) => nextCharge(fixture, site, roundId, false));
      forgedCohort[3] = { ...forgedCohort[3], signature: forgedCohort[0].signature };
      await expect(chargeCohort(forgedCohort)).rejects.toMatchObject({ code: 'E_LEDGER_SIGNATURE' });
      expect(await ledger.head(fixture.federationId)).toEqual({ seq: 0, hash: GENESIS_HASH });
      expect((await database.db.select().from(rounds).where(eq(rounds.id, roundId)))[0].state).toBe('open');

      await chargeCohort(fixture.sites.map((site) => nextCharge(fixture, site, roundId)));
      expect(await ledger.verifyLedger(fixture.federationId)).toMatchObject({ ok: true, entries: 4 });
      expect((await database.db.select().from(rounds).where(eq(rounds.id, roundId)))[0].state).toBe('unmasking');
    });

    it('refuses a double charge for the same site and round, in code and in the schema', async () => {
      const fixture = await createFixture(database.db, 1, 2);
      const [site] = fixture.sites;
      const first = await ledger.append(database.db, nextCharge(fixture, site, fixture.roundIds[0]));
      const again = nextCharge(fixture, site, fixture.roundIds[0], false);
      await expect(ledger.append(database.db, again)).rejects.toMatchObject({ code: 'E_LEDGER_DOUBLE_CHARGE' });

      const duplicateRow = database.db.insert(privacyLedger).values({
        ...first,
        seq: 2,
        prevHash: first.entryHash,
        entryHash: 'f'.repeat(64),
      });
      expect(await expectRejection(duplicateRow)).toMatch(/privacy_ledger_site_round_unique/);
      expect(await ledger.head(fixture.federationId)).toEqual({ seq: 1, hash: first.entryHash });
    });

    it('refuses a fork in the schema itself, even from a writer that skips the lock', async () => {
      const fixture = await createFixture(database.db, 2, 1);
      const first = await ledger.append(database.db, nextCharge(fixture, fixture.sites[0], fixture.roundIds[0]));
      const second = await ledger.append(database.db, nextCharge(fixture, fixture.sites[1], fixture.roundIds[0]));
      // a second successor of entry 1 (same prev_hash), under a fresh seq and round
      const [extraRound] = await database.db
        .insert(rounds)
        .values({ federationId: fixture.federationId, number: 2 })
        .returning();
      const fork = database.db.insert(privacyLedger).values({
        ...second,
        seq: 3,
        roundId: extraRound.id,
        prevHash: first.entryHash,
        entryHash: 'e'.repeat(64),
      });
      expect(await expectRejection(fork)).toMatch(/privacy_ledger_federation_prev_unique/);
      const sameSeq = database.db.insert(privacyLedger).values({
        ...second,
        roundId: extraRound.id,
        prevHash: second.entryHash,
        entryHash: 'e'.repeat(64),
      });
      expect(await expectRejection(sameSeq)).toMatch(/privacy_ledger_pk/);
      expect((await ledger.verifyLedger(fixture.federationId)).ok).toBe(true);
    });

    it('refuses a forged signature, a skipped or replayed site sequence, and a mismatched receipt', async () => {
      const fixture = await createFixture(database.db, 2, 3);
      const [site, other] = fixture.sites;
      await ledger.append(database.db, nextCharge(fixture, site, fixture.roundIds[0]));

      const forged = nextCharge(fixture, site, fixture.roundIds[1], false);
      forged.signature = nextCharge(fixture, other, fixture.roundIds[1], false).signature;
      await expect(ledger.append(database.db, forged)).rejects.toMatchObject({ code: 'E_LEDGER_SIGNATURE' });

      site.sequence += 1; // the site skips a sequence number
      const skipped = nextCharge(fixture, site, fixture.roundIds[1], false);
      await expect(ledger.append(database.db, skipped)).rejects.toMatchObject({ code: 'E_LEDGER_SITE_SEQUENCE' });
      site.sequence -= 1;

      const replayedStart = nextCharge(fixture, other, fixture.roundIds[1], false);
      const mismatched = { ...replayedStart, roundId: fixture.roundIds[2] };
      await expect(ledger.append(database.db, mismatched)).rejects.toMatchObject({ code: 'E_LEDGER_RECEIPT_MISMATCH' });
      await expect(
        ledger.append(database.db, { ...replayedStart, receipt: { ...replayedStart.receipt, steps: -1 } }),
      ).rejects.toBeInstanceOf(LedgerError);
      expect(await ledger.head(fixture.federationId)).toMatchObject({ seq: 1 });
    });

    it('keeps federations apart: each has its own chain, head and findings', async () => {
      const a = await createFixture(database.db, 1, 1, 'a');
      const b = await createFixture(database.db, 1, 1, 'b');
      await ledger.append(database.db, nextCharge(a, a.sites[0], a.roundIds[0]));
      const bEntry = await ledger.append(database.db, nextCharge(b, b.sites[0], b.roundIds[0]));
      expect(bEntry.seq).toBe(1);
      expect(bEntry.prevHash).toBe(GENESIS_HASH);
      expect(await ledger.entries(a.federationId)).toHaveLength(1);
      // a site of federation A cannot be charged in federation B's chain
      const crossed = nextCharge(a, a.sites[0], b.roundIds[0], false);
      await expect(
        ledger.append(database.db, {
          ...crossed,
          federationId: b.federationId,
          receipt: { ...crossed.receipt, federationId: b.federationId },
        }),
      ).rejects.toMatchObject({ code: 'E_LEDGER_UNKNOWN_SITE' });
      const [{ count }] = await database.db
        .select({ count: sql<number>`count(*)::int` })
        .from(privacyLedger)
        .where(eq(privacyLedger.federationId, b.federationId));
      expect(count).toBe(1);
    });
  });
}
