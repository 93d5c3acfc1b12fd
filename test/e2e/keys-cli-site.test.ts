/**
 * `concord keys create --role site` follows POST /api/keys' rules (issue 16, finding 6): a site key names an enrolled
 * site (--site) and is bound to that site's federation; no other role takes --site. Refusals exit 2 and write nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../apps/aggregator/src/db/client.js';
import { apiKeys } from '../../apps/aggregator/src/db/schema/api-keys.js';
import { sites } from '../../apps/aggregator/src/db/schema/sites.js';
import { FederationRepository } from '../../apps/aggregator/src/repositories/federation.repository.js';
import { CONCORD_BIN, runCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'concord-keys-site-'));
const dataDir = join(dir, 'data');
const ENV = { env: { DATABASE_URL: '', CONCORD_DATABASE_URL: '', CONCORD_DATA_DIR: '' } };
let federationId = '';
let otherFederationId = '';
let siteId = '';

async function keyRows() {
  const database = await openDatabase({ dataDir });
  try {
    return await database.db.select().from(apiKeys);
  } finally {
    await database.close();
  }
}

beforeAll(async () => {
  const database = await openDatabase({ dataDir });
  try {
    await database.migrate();
    const federations = new FederationRepository(database.db);
    federationId = (await federations.create({ name: 'a', spec: {} })).id;
    otherFederationId = (await federations.create({ name: 'b', spec: {} })).id;
    const [site] = await database.db
      .insert(sites)
      .values({
        federationId,
        name: 'north',
        identityPublicKey: '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=',
        keyAgreementPublicKey: 'hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=',
        capEpsilon: 3,
        capDelta: 1e-5,
      })
      .returning();
    siteId = site.id;
  } finally {
    await database.close();
  }
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('concord keys create --role site', () => {
  it('refuses a site key without --site, --site on another role, an unknown site and a mismatched federation', async () => {
    const refused = [
      [['--role', 'site'], /--site is required for --role site/],
      [['--role', 'operator', '--site', siteId], /--site is required for --role site, and only for it/],
      [['--role', 'site', '--site', 'not-a-uuid'], /--site must be a uuid/],
      [['--role', 'site', '--site', randomUUID()], /--site: no site/],
      [['--role', 'site', '--site', siteId, '--federation', otherFederationId], /no site .* in that federation/],
    ] as const;
    for (const [args, message] of refused) {
      const r = runCli(CONCORD_BIN, ['keys', 'create', ...args, '--data-dir', dataDir], ENV);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(await keyRows()).toEqual([]);
  }, 180_000);

  it('creates a site key bound to the site and its federation', async () => {
    const r = runCli(
      CONCORD_BIN,
      ['keys', 'create', '--role', 'site', '--site', siteId, '--data-dir', dataDir, '--json'],
      ENV,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ role: 'site' });
    const [row] = await keyRows();
    expect(row).toMatchObject({ role: 'site', siteId, federationId });
  }, 120_000);
});
