/** `concord keys create`: the key is printed once, only its sha256 is stored, and the stored key authenticates. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../apps/aggregator/src/db/client.js';
import { apiKeys } from '../../apps/aggregator/src/db/schema/api-keys.js';
import { ApiKeyRepository } from '../../apps/aggregator/src/repositories/api-key.repository.js';
import { ApiKeyService, hashApiKey } from '../../apps/aggregator/src/services/api-key.service.js';
import { CONCORD_BIN, runCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'concord-keys-'));
const NO_DB_ENV = { DATABASE_URL: '', CONCORD_DATABASE_URL: '', CONCORD_DATA_DIR: '' };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('concord keys create', () => {
  it('refuses to create a new embedded database without --init, and says where it looked', () => {
    const dataDir = join(dir, 'nothing-here');
    const r = runCli(CONCORD_BIN, ['keys', 'create', '--role', 'admin', '--data-dir', dataDir], { env: NO_DB_ENV });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`no database at embedded database ${dataDir}`);
    expect(r.stderr).toMatch(/--database-url.*--init/);
    expect(existsSync(dataDir)).toBe(false); // nothing half-created
  });

  it('creates the first admin key on a fresh data dir with --init, says where, and shows it once', async () => {
    const dataDir = join(dir, 'data');
    const human = runCli(CONCORD_BIN, ['keys', 'create', '--role', 'admin', '--data-dir', dataDir, '--init']);
    expect(human.status, human.stderr).toBe(0);
    const key = human.stdout.trim();
    expect(key).toMatch(/^concord_[A-Za-z0-9_-]{43}$/);
    expect(human.stderr).toMatch(/shown only this once/);
    expect(human.stderr).toContain(`in embedded database ${dataDir}`);
    const json = runCli(CONCORD_BIN, [
      'keys',
      'create',
      '--role',
      'auditor',
      '--name',
      'auditor 1',
      '--data-dir',
      dataDir,
      '--json',
    ]);
    expect(json.status, json.stderr).toBe(0);
    const second = JSON.parse(json.stdout);
    expect(second).toMatchObject({ role: 'auditor', name: 'auditor 1', database: `embedded database ${dataDir}` });

    const database = await openDatabase({ dataDir });
    try {
      const rows = await database.db.select().from(apiKeys);
      expect(rows.map((r) => r.keyHash).sort()).toEqual([hashApiKey(key), hashApiKey(second.key)].sort());
      expect(JSON.stringify(rows)).not.toContain(key); // only the hash is stored
      const service = new ApiKeyService(new ApiKeyRepository(database.db));
      expect(await service.authenticate(key)).toMatchObject({ role: 'admin' });
      expect(await service.authenticate(key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
    } finally {
      await database.close();
    }
  }, 180_000);

  it('refuses a bad role with exit 2', () => {
    const r = runCli(CONCORD_BIN, ['keys', 'create', '--role', 'root', '--data-dir', join(dir, 'other'), '--init']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--role must be one of admin, operator, auditor, site/);
  });
});
