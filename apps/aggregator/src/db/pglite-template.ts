/**
 * A freshly migrated PGlite data directory, dumped once and cached in the OS temp directory per migrations and
 * PGlite version: an in-memory database that starts from it skips initdb and the migrations, 2-3x faster than a
 * fresh one (seconds of the server's thread: `concord simulate` and the tests start one per run).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { DEFAULT_MIGRATIONS_FOLDER, openDatabase } from './client.js';

let templatePromise: Promise<Blob> | undefined;

/**
 * The template (a `dumpDataDir()` tarball). A cached file is used only when this user owns it and nobody else may
 * write it; otherwise (and the first time) it is made and written atomically. Callers still run migrate(), a no-op
 * on a current template, so a stale one can never hide a migration.
 */
export function migratedPgliteTemplate(): Promise<Blob> {
  templatePromise ??= (async () => {
    const file = join(tmpdir(), `concord-pglite-template-${templateKey()}.tar`);
    if (existsSync(file) && ownedAndPrivate(file)) return new Blob([readFileSync(file)]);
    const database = await openDatabase({ dataDir: 'memory' });
    await database.migrate();
    const client = (database.db as unknown as { $client: PGlite }).$client;
    const dump = await client.dumpDataDir('none');
    await database.close();
    const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()), { mode: 0o600 });
    renameSync(partial, file); // atomic: parallel runs never read a half-written template
    return dump;
  })();
  return templatePromise;
}

/** The shared temp directory is writable by all: a file another user could have planted or changed is not used. */
export function ownedAndPrivate(file: string): boolean {
  const { uid, mode } = statSync(file);
  return (process.getuid === undefined || uid === process.getuid()) && (mode & 0o022) === 0;
}

function templateKey(): string {
  const hash = createHash('sha256');
  // its package.json is not exported: find it beside dist/ (it carries the version)
  const pgliteEntry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  hash.update(readFileSync(join(dirname(pgliteEntry), '..', 'package.json')));
  for (const name of readdirSync(DEFAULT_MIGRATIONS_FOLDER, { recursive: true }).map(String).sort()) {
    const path = join(DEFAULT_MIGRATIONS_FOLDER, name);
    if (name.endsWith('.sql') || name.endsWith('.json')) hash.update(name).update(readFileSync(path));
  }
  return hash.digest('hex').slice(0, 16);
}
