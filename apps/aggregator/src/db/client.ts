import { ConcordError } from '@concord/protocol';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
/** One drizzle type both drivers satisfy: repositories are written once against it. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle (also usable wherever a Db is). */
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** What a repository write runs on: the database, or the caller's transaction (so writes commit together). */
export type Executor = Db | Tx;
export type DatabaseDriver = 'pglite' | 'postgres';

export interface Database {
  db: Db;
  driver: DatabaseDriver;
  /** Applies the committed drizzle-kit migrations not yet applied (idempotent; serialized across processes). */
  migrate(): Promise<void>;
  /** True when every committed migration has been applied. */
  migrationsApplied(): Promise<boolean>;
  /** True when the database answers `SELECT 1`. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
  /** Raw SQL escape hatch for tests and tools (one or more statements, no parameters). */
  execute(sql: string): Promise<unknown>;
}

export interface OpenDatabaseOptions {
  /** postgres:// URL: use the server through postgres.js. Wins over dataDir. */
  url?: string;
  /** PGlite data directory (created if missing); 'memory' for an in-memory database. Default ./.concord/data. */
  dataDir?: string;
  /** postgres.js pool size (default 10; at least 2, since migrate() holds one connection for its lock). */
  maxConnections?: number;
  /** Where the drizzle-kit migrations live (default apps/aggregator/drizzle). */
  migrationsFolder?: string;
  /** PGlite only: start from a data directory dumped with `dumpDataDir()` (tests load a migrated template). */
  pgliteLoadDataDir?: Blob;
}

export const DEFAULT_DATA_DIR = './.concord/data';
export const DEFAULT_MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** Opening failed (bad URL, unreachable server, unusable data directory). The message names no password. */
export class DatabaseOpenError extends ConcordError {
  override readonly code = 'E_DATABASE_OPEN';
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_DATABASE_OPEN', message, options);
    this.name = 'DatabaseOpenError';
  }
}

// Key of the session advisory lock that serializes migrations between processes sharing one server.
const MIGRATION_LOCK_KEY = 7_245_001;

/** Opens the database: postgres.js when `url` is given, PGlite otherwise. Does not migrate; call migrate(). */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  const migrationsFolder = options.migrationsFolder ?? DEFAULT_MIGRATIONS_FOLDER;
  if (options.url !== undefined && options.url !== '') return openPostgres(options.url, options, migrationsFolder);
  return openPglite(options.dataDir ?? DEFAULT_DATA_DIR, migrationsFolder, options.pgliteLoadDataDir);
}

async function openPostgres(url: string, options: OpenDatabaseOptions, migrationsFolder: string): Promise<Database> {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new DatabaseOpenError('database url: expected postgres://...');
  const max = Math.max(2, options.maxConnections ?? 10);
  const client = postgres(url, { max, onnotice: () => {} });
  try {
    await client`select 1`;
  } catch (error) {
    await client.end({ timeout: 1 }).catch(() => {});
    throw new DatabaseOpenError(`database url: cannot connect to ${redactUrl(url)} (${errorMessage(error)})`, {
      cause: error,
    });
  }
  const db: Db = drizzlePostgres(client, { schema });
  return {
    db,
    driver: 'postgres',
    async migrate() {
      const lock = await client.reserve();
      try {
        await lock`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        await migratePostgres(drizzlePostgres(client, { schema }), { migrationsFolder });
      } finally {
        await lock`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
        lock.release();
      }
    },
    migrationsApplied: () => checkMigrations(async (q) => (await client.unsafe(q)) as unknown[], migrationsFolder),
    ping: () => pingWith(async () => client`select 1`),
    close: () => client.end({ timeout: 5 }),
    execute: (sql) => client.unsafe(sql),
  };
}

async function openPglite(dataDir: string, migrationsFolder: string, loadDataDir?: Blob): Promise<Database> {
  let client: PGlite;
  try {
    if (dataDir === 'memory') client = await PGlite.create({ loadDataDir });
    else {
      mkdirSync(dataDir, { recursive: true });
      client = await PGlite.create(dataDir, { loadDataDir });
    }
  } catch (error) {
    throw new DatabaseOpenError(`data dir: cannot open PGlite at ${dataDir} (${errorMessage(error)})`, {
      cause: error,
    });
  }
  const db: Db = drizzlePglite(client, { schema });
  return {
    db,
    driver: 'pglite',
    // PGlite has one connection and one process: nothing to serialize with.
    migrate: () => migratePglite(drizzlePglite(client, { schema }), { migrationsFolder }),
    migrationsApplied: () => checkMigrations(async (q) => (await client.query(q)).rows, migrationsFolder),
    ping: () => pingWith(() => client.query('select 1')),
    close: async () => {
      if (!client.closed) await client.close();
    },
    execute: (sql) => client.exec(sql),
  };
}

/** Same rule as drizzle's migrator: applied when the newest recorded migration is at least the newest on disk. */
async function checkMigrations(query: (sql: string) => Promise<unknown[]>, migrationsFolder: string): Promise<boolean> {
  const onDisk = readMigrationFiles({ migrationsFolder });
  const newestOnDisk = Math.max(0, ...onDisk.map((m) => m.folderMillis));
  try {
    const [exists] = (await query(
      `select to_regclass('drizzle.__drizzle_migrations') is not null as "exists"`,
    )) as Array<{ exists: boolean }>;
    if (!exists?.exists) return onDisk.length === 0;
    const [row] = (await query(`select max(created_at) as "newest" from drizzle.__drizzle_migrations`)) as Array<{
      newest: string | number | null;
    }>;
    return row?.newest != null && Number(row.newest) >= newestOnDisk;
  } catch {
    return false;
  }
}

async function pingWith(query: () => Promise<unknown>): Promise<boolean> {
  try {
    await query();
    return true;
  } catch {
    return false;
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable url)';
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
