/**
 * Databases for storage tests: an in-memory PGlite, and, when DATABASE_URL is set, a throwaway database on the real
 * server (CREATE DATABASE concord_test_<random>, dropped afterwards) so runs never see each other's rows.
 *
 *   for (const target of databaseTargets()) {
 *     describe.skipIf(target.skip)(`my storage test on ${target.name}`, () => {
 *       let database: TestDatabase;
 *       beforeAll(async () => { database = await target.open(); });   // one per file: PGlite takes seconds to start
 *       afterAll(async () => { await database?.dispose(); });
 *       ...
 *     });
 *   }
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDatabase, type Database, type DatabaseDriver } from '../../apps/aggregator/src/db/client.js';
import { migratedPgliteTemplate } from '../../apps/aggregator/src/db/pglite-template.js';

export interface TestDatabase extends Database {
  /** For the server: the throwaway database's URL (open more connections to it). Undefined for PGlite. */
  url?: string;
  /** Closes the connections and drops the throwaway database. */
  dispose(): Promise<void>;
}

export interface DatabaseTarget {
  name: DatabaseDriver;
  /** True when this target cannot run here (no DATABASE_URL for the server). */
  skip: boolean;
  /** Opens a fresh database, migrated unless `migrate: false`. */
  open(options?: { migrate?: boolean }): Promise<TestDatabase>;
}

let noticeShown = false;

/** PGlite always; the server only when DATABASE_URL is set (otherwise skipped, with one visible note). */
export function databaseTargets(): DatabaseTarget[] {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl && !noticeShown) {
    noticeShown = true;
    console.warn('[storage tests] DATABASE_URL is not set: the real-PostgreSQL half of these tests is SKIPPED');
  }
  return [
    { name: 'pglite', skip: false, open: openTestPglite },
    { name: 'postgres', skip: !serverUrl, open: (options) => openTestServerDatabase(serverUrl ?? '', options) },
  ];
}

/**
 * An in-memory PGlite. Migrated ones start from a template (a dump of a freshly migrated database, cached in the OS
 * temp directory per migrations + PGlite version), which skips initdb and is 2-3x faster to start than a fresh one.
 */
export async function openTestPglite(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  if (options.migrate === false) {
    const database = await openDatabase({ dataDir: 'memory' });
    return { ...database, dispose: () => database.close() };
  }
  const database = await openDatabase({ dataDir: 'memory', pgliteLoadDataDir: await migratedPgliteTemplate() });
  await database.migrate(); // a no-op on the template; kept so a stale template can never hide a migration
  return { ...database, dispose: () => database.close() };
}

/** Creates concord_test_<random> on the server at `serverUrl`, migrates it, and drops it on dispose(). */
export async function openTestServerDatabase(
  serverUrl: string,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const name = `concord_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = withDatabase(serverUrl, name);
  const database = await openDatabase({ url });
  if (options.migrate !== false) await database.migrate();
  return {
    ...database,
    url,
    async dispose() {
      await database.close();
      const dropper = postgres(serverUrl, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await dropper.end({ timeout: 5 });
      }
    },
  };
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
