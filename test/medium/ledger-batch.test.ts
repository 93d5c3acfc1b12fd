/**
 * The round's charge is one batched append (LedgerRepository.appendMany, issue 20): the same checks, in the same
 * order, as one `append` per charge, with nothing written when any charge is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signReceipt, verifyReceiptWithProof } from '@concord/protocol';
import { GENESIS_HASH } from '../../apps/aggregator/src/ledger/chain.js';
import { LedgerRepository } from '../../apps/aggregator/src/repositories/ledger.repository.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';
import { createFixture, nextCharge } from './ledger-fixtures.js';

for (const target of databaseTargets()) {
  describe.skipIf(target.skip)(`privacy ledger batch append on ${target.name}`, () => {
    let database: TestDatabase;
    let ledger: LedgerRepository;

    beforeAll(async () => {
      database = await target.open();
      ledger = new LedgerRepository(database.db);
    });
    afterAll(async () => {
      await database?.dispose();
    });

    it('appends a cohort in input order, chaining sites that appear twice, into a chain that verifies', async () => {
      const fixture = await createFixture(database.db, 4, 3);
      const [r1, r2, r3] = fixture.roundIds;
      const first = fixture.sites.map((site) => nextCharge(fixture, site, r1));
      const rows = await ledger.appendMany(database.db, first);
      expect(rows.map((r) => [r.seq, r.siteId])).toEqual(fixture.sites.map((s, i) => [i + 1, s.id]));
      expect(rows[0].prevHash).toBe(GENESIS_HASH);
      for (let i = 1; i < rows.length; i++) expect(rows[i].prevHash).toBe(rows[i - 1].entryHash);

      // site 0 is charged for two rounds in one batch: its second receipt extends its first
      const [s0, s1] = fixture.sites;
      const mixed = [nextCharge(fixture, s0, r2), nextCharge(fixture, s1, r2), nextCharge(fixture, s0, r3)];
      const more = await ledger.appendMany(database.db, mixed);
      expect(more.map((r) => r.seq)).toEqual([5, 6, 7]);
      expect(await ledger.verifyLedger(fixture.federationId)).toMatchObject({ ok: true, entries: 7 });
      expect(await ledger.head(fixture.federationId)).toEqual({ seq: 7, hash: more[2].entryHash });
    });

    it('throws the first refused charge in input order, as one append per charge would, and writes nothing', async () => {
      const fixture = await createFixture(database.db, 4, 2);
      const [r1, r2] = fixture.roundIds;
      const [a, b, c, d] = fixture.sites;
      await ledger.appendMany(database.db, [nextCharge(fixture, a, r1)]);
      const head = await ledger.head(fixture.federationId);
      const refused = async (charges: ReturnType<typeof nextCharge>[], code: string) => {
        await expect(ledger.appendMany(database.db, charges)).rejects.toMatchObject({ code });
        expect(await ledger.head(fixture.federationId)).toEqual(head);
      };

      const forged = { ...nextCharge(fixture, c, r1, false), signature: nextCharge(fixture, d, r1, false).signature };
      a.sequence += 1; // a skips a sequence number: refused too, but after the forged signature
      const skipped = nextCharge(fixture, a, r2, false);
      a.sequence -= 1;
      await refused([nextCharge(fixture, b, r1, false), forged, skipped], 'E_LEDGER_SIGNATURE');
      await refused([nextCharge(fixture, b, r1, false), skipped, forged], 'E_LEDGER_SITE_SEQUENCE');
      // a is already charged for r1; b twice for r2 in one batch
      await refused([nextCharge(fixture, b, r1, false), nextCharge(fixture, a, r1, false)], 'E_LEDGER_DOUBLE_CHARGE');
      const twice = nextCharge(fixture, b, r2, false);
      await refused([twice, { ...twice }], 'E_LEDGER_DOUBLE_CHARGE');
      const mismatched = { ...nextCharge(fixture, c, r1, false), roundId: r2 };
      await refused([nextCharge(fixture, b, r1, false), mismatched], 'E_LEDGER_RECEIPT_MISMATCH');
      const stranger = await createFixture(database.db, 1, 1, 'stranger');
      const foreign = { ...nextCharge(stranger, stranger.sites[0], r1, false) };
      const unknownSite = { ...nextCharge(fixture, c, r1, false), siteId: foreign.siteId };
      unknownSite.receipt = { ...unknownSite.receipt, siteId: foreign.siteId };
      await refused([nextCharge(fixture, b, r1, false), unknownSite], 'E_LEDGER_UNKNOWN_SITE');

      await expect(ledger.appendMany(database.db, [nextCharge(fixture, b, r1, false), foreign])).rejects.toBeInstanceOf(
        RangeError,
      );
      expect(await ledger.appendMany(database.db, [])).toEqual([]);
      expect((await ledger.verifyLedger(fixture.federationId)).ok).toBe(true);
    });

    it('a proof of an earlier verification replaces only that verification: same key, signature and bytes', async () => {
      const fixture = await createFixture(database.db, 2, 1, 'proof');
      const [r1] = fixture.roundIds;
      const [a, b] = fixture.sites;
      // b signs a's receipt: a valid signature under b's key, so a proof exists, but the ledger reads a's key
      const charge = nextCharge(fixture, a, r1, false);
      const signature = signReceipt(charge.receipt, b.seed);
      const proof = verifyReceiptWithProof(charge.receipt, signature, b.publicKey);
      expect(proof).toBeDefined();
      await expect(ledger.appendMany(database.db, [{ ...charge, signature, proof }])).rejects.toMatchObject({
        code: 'E_LEDGER_SIGNATURE',
      });
      // a's own signature with its proof: charged
      const own = nextCharge(fixture, a, r1, false);
      const ownProof = verifyReceiptWithProof(own.receipt, own.signature, a.publicKey);
      const [row] = await ledger.appendMany(database.db, [{ ...own, proof: ownProof }]);
      expect(row.siteId).toBe(a.id);
      expect((await ledger.verifyLedger(fixture.federationId)).ok).toBe(true);
    });
  });
}
