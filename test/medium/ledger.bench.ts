/**
 * Ledger throughput on both drivers, side by side in one run:
 *   npx tsc -b libs/protocol && DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx test/medium/ledger.bench.ts
 * (without DATABASE_URL only PGlite is measured). Prints appends/s (one transaction each; sequential, and 10
 * concurrent callers), verifyLedger() entries/s (read + verify), and the pure verifier alone.
 */
import { performance } from 'node:perf_hooks';
import { openDatabase, type Database } from '../../apps/aggregator/src/db/client.js';
import { verifyLedgerEntries } from '../../apps/aggregator/src/ledger/verify.js';
import { LedgerRepository } from '../../apps/aggregator/src/repositories/ledger.repository.js';
import { SiteRepository } from '../../apps/aggregator/src/repositories/site.repository.js';
import { openTestPglite, openTestServerDatabase, type TestDatabase } from '../support/databases.js';
import { createFixture, nextCharge } from './ledger-fixtures.js';

const SEQUENTIAL = 200;
const CALLERS = 10;
const PER_CALLER = 20;

async function time<T>(run: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await run();
  return [result, (performance.now() - start) / 1000];
}

async function measure(database: TestDatabase): Promise<Record<string, string>> {
  const ledger = new LedgerRepository(database.db);
  const sequential = await createFixture(database.db, 1, SEQUENTIAL);
  const [, sequentialSeconds] = await time(async () => {
    for (const roundId of sequential.roundIds) {
      await database.db.transaction((tx) => ledger.append(tx, nextCharge(sequential, sequential.sites[0], roundId)));
    }
  });

  const concurrent = await createFixture(database.db, CALLERS, PER_CALLER);
  const callers: Database[] =
    database.driver === 'postgres'
      ? await Promise.all(concurrent.sites.map(() => openDatabase({ url: database.url, maxConnections: 2 })))
      : concurrent.sites.map(() => database);
  const [, concurrentSeconds] = await time(() =>
    Promise.all(
      concurrent.sites.map(async (site, i) => {
        const repository = new LedgerRepository(callers[i].db);
        for (const roundId of concurrent.roundIds) {
          await callers[i].db.transaction((tx) => repository.append(tx, nextCharge(concurrent, site, roundId)));
        }
      }),
    ),
  );
  if (database.driver === 'postgres') await Promise.all(callers.map((c) => c.close()));

  const [verification, verifySeconds] = await time(() => ledger.verifyLedger(sequential.federationId));
  if (!verification.ok) throw new Error('bench chain does not verify');
  const [entries, readSeconds] = await time(() => ledger.entries(sequential.federationId));
  const keys = await new SiteRepository(database.db).identityKeys(sequential.federationId);
  const [, pureSeconds] = await time(async () => verifyLedgerEntries(entries, keys));

  const perSecond = (n: number, s: number) => `${Math.round(n / s)}/s`;
  return {
    'append, sequential': perSecond(SEQUENTIAL, sequentialSeconds),
    [`append, ${CALLERS} concurrent callers`]: perSecond(CALLERS * PER_CALLER, concurrentSeconds),
    'verifyLedger (read + verify)': perSecond(SEQUENTIAL, verifySeconds),
    'read entries only': perSecond(SEQUENTIAL, readSeconds),
    'pure verifier only': perSecond(SEQUENTIAL, pureSeconds),
  };
}

async function main(): Promise<void> {
  const results: Record<string, Record<string, string>> = {};
  const pglite = await openTestPglite();
  results.pglite = await measure(pglite);
  await pglite.dispose();
  if (process.env.DATABASE_URL) {
    const server = await openTestServerDatabase(process.env.DATABASE_URL);
    results.postgres = await measure(server);
    await server.dispose();
  } else {
    console.error('DATABASE_URL not set: PostgreSQL column skipped');
  }
  const rows = Object.keys(results.pglite).map((metric) => ({
    metric,
    pglite: results.pglite[metric],
    postgres: results.postgres?.[metric] ?? '-',
    'postgres / pglite': results.postgres
      ? (parseFloat(results.postgres[metric]) / parseFloat(results.pglite[metric])).toFixed(2)
      : '-',
  }));
  console.table(rows);
}

await main();
