/**
 * Migration 0007 (issue 16): the keys already stored in `sites` are checked by SQL and every failing row is reported
 * (RAISE WARNING and a row in site_key_findings), never rewritten. The database is migrated up to 0006, bad rows are
 * inserted as an older aggregator would have stored them, then 0007 runs through drizzle's migrator, on PGlite and
 * on the PostgreSQL server.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { asc } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { ed25519KeyProblem, x25519KeyProblem } from '@concord/protocol';
import { DEFAULT_MIGRATIONS_FOLDER, openDatabase, type Database } from '../../apps/aggregator/src/db/client.js';
import { federations, siteKeyFindings, sites } from '../../apps/aggregator/src/db/schema/index.js';
import { findBadSiteKeys } from '../../apps/aggregator/src/services/site-key-report.js';
import { CONCORD_BIN, runCli } from '../support/cli.js';
import { databaseTargets, openTestServerDatabase } from '../support/databases.js';

const P = 2n ** 255n - 19n;
const le = (n: bigint) => {
  const bytes = Buffer.alloc(32);
  for (let i = 0; i < 32; i++, n >>= 8n) bytes[i] = Number(n & 255n);
  return bytes;
};
const b64 = (bytes: Buffer) => bytes.toString('base64');
const withSign = (bytes: Buffer) => {
  const copy = Buffer.from(bytes);
  copy[31] |= 0x80;
  return copy;
};
const ed25519 = () =>
  b64(generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32) as Buffer);
const x25519 = () =>
  b64(generateKeyPairSync('x25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32) as Buffer);
const ORDER_8_Y = Buffer.from('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', 'hex');
const ORDER_8_U = Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex');

/** y = 2 is not the y of any Ed25519 point: only full point decoding (the boot report) sees it. */
const OFF_CURVE = b64(le(2n));

interface Case {
  name: string;
  identity: string;
  agreement: string;
  /** what migration 0007 must report for this site */
  expect: Array<[field: 'identityPublicKey' | 'keyAgreementPublicKey', code: string]>;
}

function cases(): Case[] {
  const good = ed25519();
  const shared = x25519();
  return [
    { name: 'good', identity: ed25519(), agreement: x25519(), expect: [] },
    {
      name: 'unpadded',
      identity: good.replace(/=$/, ''),
      agreement: x25519(),
      expect: [['identityPublicKey', 'E_KEY_ENCODING']],
    },
    { name: 'newline', identity: `${good}\n`, agreement: x25519(), expect: [['identityPublicKey', 'E_KEY_ENCODING']] },
    { name: 'space', identity: ` ${good}`, agreement: x25519(), expect: [['identityPublicKey', 'E_KEY_ENCODING']] },
    {
      name: 'bang',
      identity: `${good.slice(0, 10)}!${good.slice(10)}`,
      agreement: x25519(),
      expect: [['identityPublicKey', 'E_KEY_ENCODING']],
    },
    {
      name: 'short',
      identity: b64(Buffer.alloc(31, 7)),
      agreement: x25519(),
      expect: [['identityPublicKey', 'E_KEY_ENCODING']],
    },
    { name: 'zeros', identity: b64(le(0n)), agreement: x25519(), expect: [['identityPublicKey', 'E_KEY_SMALL_ORDER']] },
    {
      name: 'identity point',
      identity: b64(le(1n)),
      agreement: x25519(),
      expect: [['identityPublicKey', 'E_KEY_SMALL_ORDER']],
    },
    {
      name: 'order 2',
      identity: b64(le(P - 1n)),
      agreement: x25519(),
      expect: [['identityPublicKey', 'E_KEY_SMALL_ORDER']],
    },
    {
      name: 'order 8 signed',
      identity: b64(withSign(ORDER_8_Y)),
      agreement: x25519(),
      expect: [['identityPublicKey', 'E_KEY_SMALL_ORDER']],
    },
    {
      name: 'identity signed',
      identity: b64(withSign(le(1n))),
      agreement: x25519(),
      expect: [['identityPublicKey', 'E_KEY_NONCANONICAL']],
    },
    {
      name: 'y = p + 3',
      identity: b64(le(P + 3n)),
      agreement: x25519(),
      expect: [['identityPublicKey', 'E_KEY_NONCANONICAL']],
    },
    { name: 'off curve', identity: OFF_CURVE, agreement: x25519(), expect: [] },
    {
      name: 'low order u',
      identity: ed25519(),
      agreement: b64(ORDER_8_U),
      expect: [['keyAgreementPublicKey', 'E_KEY_LOW_ORDER']],
    },
    {
      name: 'u = 1',
      identity: ed25519(),
      agreement: b64(le(1n)),
      expect: [['keyAgreementPublicKey', 'E_KEY_LOW_ORDER']],
    },
    {
      name: 'u top bit',
      identity: ed25519(),
      agreement: b64(withSign(Buffer.from(x25519(), 'base64'))),
      expect: [['keyAgreementPublicKey', 'E_KEY_NONCANONICAL']],
    },
    {
      name: 'u = p',
      identity: ed25519(),
      agreement: b64(le(P)),
      expect: [['keyAgreementPublicKey', 'E_KEY_NONCANONICAL']],
    },
    // the last base64 digit carries 2 bits no byte uses: 'B' instead of 'A' decodes to the same bytes
    {
      name: 'trailing bits',
      identity: ed25519(),
      agreement: `${b64(le(9n)).slice(0, 42)}B=`,
      expect: [['keyAgreementPublicKey', 'E_KEY_ENCODING']],
    },
    {
      name: 'shared 1',
      identity: ed25519(),
      agreement: shared,
      expect: [['keyAgreementPublicKey', 'E_DUPLICATE_KEY']],
    },
    {
      name: 'shared 2',
      identity: ed25519(),
      agreement: shared,
      expect: [['keyAgreementPublicKey', 'E_DUPLICATE_KEY']],
    },
    {
      name: 'both bad',
      identity: b64(le(P + 1n)),
      agreement: b64(le(0n)),
      expect: [
        ['identityPublicKey', 'E_KEY_NONCANONICAL'],
        ['keyAgreementPublicKey', 'E_KEY_LOW_ORDER'],
      ],
    },
  ];
}

/** A copy of the committed migrations that stops at `lastTag` (journal cut there). */
function migrationsUpTo(lastTag: string): { folder: string; remove(): void } {
  const folder = mkdtempSync(join(tmpdir(), 'concord-migrations-'));
  const journal = JSON.parse(readFileSync(join(DEFAULT_MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
    entries: Array<{ tag: string }>;
  };
  const last = journal.entries.findIndex((e) => e.tag === lastTag);
  if (last < 0) throw new Error(`no migration ${lastTag}`);
  journal.entries = journal.entries.slice(0, last + 1);
  for (const entry of journal.entries) {
    copyFileSync(join(DEFAULT_MIGRATIONS_FOLDER, `${entry.tag}.sql`), join(folder, `${entry.tag}.sql`));
  }
  mkdirSync(join(folder, 'meta'));
  writeFileSync(join(folder, 'meta', '_journal.json'), JSON.stringify(journal));
  return { folder, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

async function seed(database: Database): Promise<Array<Case & { id: string; federationId: string }>> {
  const [federation] = await database.db
    .insert(federations)
    .values({ name: `keys-${randomUUID()}`, spec: {} })
    .returning({ id: federations.id });
  const seeded = [];
  for (const c of cases()) {
    const [row] = await database.db
      .insert(sites)
      .values({
        federationId: federation.id,
        name: c.name,
        identityPublicKey: c.identity,
        keyAgreementPublicKey: c.agreement,
        capEpsilon: 3,
        capDelta: 1e-5,
      })
      .returning({ id: sites.id });
    seeded.push({ ...c, id: row.id, federationId: federation.id });
  }
  return seeded;
}

const SQL_CODES = new Set([
  'E_KEY_ENCODING',
  'E_KEY_NONCANONICAL',
  'E_KEY_SMALL_ORDER',
  'E_KEY_LOW_ORDER',
  'E_DUPLICATE_KEY',
]);
const keyOf = (f: { siteId: string; field: string; code: string }) => `${f.siteId} ${f.field} ${f.code}`;

for (const target of databaseTargets()) {
  describe.skipIf(target.skip)(`migration 0007 (stored site keys) on ${target.name}`, () => {
    const cleanup: Array<() => Promise<void> | void> = [];
    afterAll(async () => {
      for (const step of cleanup.reverse()) await step();
    });

    it('reports every stored key that fails the SQL checks, by site id and code, and changes no row', async () => {
      const early = migrationsUpTo('0006_rounds_kind');
      cleanup.push(early.remove);
      let database: Database;
      let runFullMigrations: () => Promise<void>;
      const warnings: string[] = [];
      let serverUrl = '';
      if (target.name === 'pglite') {
        database = await openDatabase({ dataDir: 'memory', migrationsFolder: early.folder });
        cleanup.push(() => database.close());
        await database.migrate();
        // the same call Database.migrate() makes for PGlite, with every committed migration
        const client = (database.db as unknown as { $client: PGlite }).$client;
        runFullMigrations = () => migratePglite(drizzlePglite(client), { migrationsFolder: DEFAULT_MIGRATIONS_FOLDER });
      } else {
        const server = await openTestServerDatabase(process.env.DATABASE_URL!, { migrate: false });
        cleanup.push(() => server.dispose());
        serverUrl = server.url!;
        database = await openDatabase({ url: server.url, migrationsFolder: early.folder });
        cleanup.push(() => database.close());
        await database.migrate();
        // drizzle's postgres-js migrator (as Database.migrate()), on a client that keeps the server's notices
        const client = postgres(server.url!, {
          max: 1,
          onnotice: (notice) => {
            if (notice.severity === 'WARNING') warnings.push(String(notice.message));
          },
        });
        cleanup.push(() => client.end({ timeout: 5 }));
        runFullMigrations = () =>
          migratePostgres(drizzlePostgres(client), { migrationsFolder: DEFAULT_MIGRATIONS_FOLDER });
      }
      expect(await database.migrationsApplied()).toBe(true); // as far as the cut folder knows
      const seeded = await seed(database);
      const before = await database.db.select().from(sites).orderBy(asc(sites.id));

      await runFullMigrations();

      const after = await database.db.select().from(sites).orderBy(asc(sites.id));
      expect(after).toEqual(before); // nothing rewritten, byte for byte
      const recorded = await database.db.select().from(siteKeyFindings).orderBy(asc(siteKeyFindings.id));
      const expected = seeded.flatMap((s) => s.expect.map(([field, code]) => ({ siteId: s.id, field, code })));
      expect(recorded.map(keyOf).sort()).toEqual(expected.map(keyOf).sort());
      for (const row of recorded) {
        expect(row.federationId).toBe(seeded[0].federationId);
        expect(row.foundBy).toBe('0007_site_key_report');
      }

      // the boot-time report (full point decoding) finds the same, plus what SQL cannot see (the off-curve key)
      const boot = findBadSiteKeys(
        after.map((r) => ({
          id: r.id,
          federationId: r.federationId,
          identityPublicKey: r.identityPublicKey,
          keyAgreementPublicKey: r.keyAgreementPublicKey,
        })),
      );
      expect(
        boot
          .filter((f) => SQL_CODES.has(f.code))
          .map(keyOf)
          .sort(),
      ).toEqual(expected.map(keyOf).sort());
      const offCurve = seeded.find((s) => s.name === 'off curve')!;
      expect(boot.filter((f) => !SQL_CODES.has(f.code)).map(keyOf)).toEqual([
        `${offCurve.id} identityPublicKey E_KEY_NOT_ON_CURVE`,
      ]);
      expect(ed25519KeyProblem(OFF_CURVE)).toBe('E_KEY_NOT_ON_CURVE');
      expect(x25519KeyProblem(b64(ORDER_8_U))).toBe('E_KEY_LOW_ORDER');

      if (target.name === 'postgres') {
        // one warning per finding naming the site and the code, then a total; no key material
        for (const f of expected) {
          expect(warnings.some((w) => w.includes(f.siteId) && w.includes(f.field) && w.includes(f.code))).toBe(true);
        }
        expect(warnings).toHaveLength(expected.length + 1);
        expect(warnings.at(-1)).toBe(
          `${expected.length} stored site key finding(s) recorded in site_key_findings; no key was changed`,
        );
        for (const s of seeded) {
          for (const w of warnings) {
            expect(w).not.toContain(s.identity.trim());
            expect(w).not.toContain(s.agreement.trim());
          }
        }
      }
      expect(await openAppliedCheck(database)).toBe(true);

      if (serverUrl) {
        // `concord audit` prints what the migration recorded, beside an (empty, so clean) ledger audit
        const json = runCli(CONCORD_BIN, ['audit', '--database-url', serverUrl, '--json']);
        expect(json.status, json.stderr).toBe(0);
        const printed = (JSON.parse(json.stdout) as { siteKeyFindings: typeof expected }).siteKeyFindings;
        expect(printed.map(keyOf).sort()).toEqual(expected.map(keyOf).sort());
        const human = runCli(CONCORD_BIN, ['audit', '--database-url', serverUrl]);
        expect(human.stdout).toContain(`site keys: ${expected.length} stored key(s) failed the key checks`);
        const lowOrder = seeded.find((s) => s.name === 'low order u')!;
        expect(human.stdout).toContain(`KEY site low order u (${lowOrder.id})`);
        expect(human.stdout).toContain('keyAgreementPublicKey E_KEY_LOW_ORDER (0007_site_key_report');
      }
    });

    // the server's warnings are checked through the migrator above
    it.skipIf(target.name !== 'pglite')('raises its warnings on PGlite too (plpgsql, RAISE WARNING)', async () => {
      // drizzle's PGlite session passes no notice handler: run 0007's statements with one, on a 0006 database
      const early = migrationsUpTo('0006_rounds_kind');
      cleanup.push(early.remove);
      const database = await openDatabase({ dataDir: 'memory', migrationsFolder: early.folder });
      cleanup.push(() => database.close());
      await database.migrate();
      const seeded = await seed(database);
      const client = (database.db as unknown as { $client: PGlite }).$client;
      const migration = readMigrationFiles({ migrationsFolder: DEFAULT_MIGRATIONS_FOLDER }).at(-1)!;
      const statements = readFileSync(join(DEFAULT_MIGRATIONS_FOLDER, '0007_site_key_report.sql'), 'utf8');
      expect(migration.sql.join('')).toBe(statements.split('--> statement-breakpoint').join(''));
      const warnings: string[] = [];
      for (const statement of migration.sql) {
        await client.exec(statement, {
          onNotice: (notice) => {
            if (notice.severity === 'WARNING') warnings.push(notice.message ?? '');
          },
        });
      }
      const expected = seeded.flatMap((s) => s.expect.map(([field, code]) => ({ siteId: s.id, field, code })));
      expect(warnings).toHaveLength(expected.length + 1);
      for (const f of expected) {
        expect(warnings.some((w) => w.includes(f.siteId) && w.includes(f.field) && w.includes(f.code))).toBe(true);
      }
    });
  });
}

async function openAppliedCheck(database: Database): Promise<boolean> {
  // migrationsApplied() compares with the folder the database was opened with; check the committed one instead
  const newest = Math.max(
    ...readMigrationFiles({ migrationsFolder: DEFAULT_MIGRATIONS_FOLDER }).map((m) => m.folderMillis),
  );
  const result = (await database.execute(
    'select max(created_at) as newest from drizzle.__drizzle_migrations',
  )) as Array<{ newest?: string; rows?: Array<{ newest: string }> }>; // postgres.js: rows; PGlite exec: results
  const row = result[0].rows ? result[0].rows[0] : result[0];
  return Number(row.newest) >= newest;
}
