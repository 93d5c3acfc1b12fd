/**
 * `concord serve --metrics-auth api-key`: GET /metrics needs an admin, operator or auditor key (401 / 403 with codes
 * otherwise); the default stays open for scrapers (checked in api.test.ts). Real Nest app on loopback, PGlite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverConfigSchema } from '../../apps/aggregator/src/config/config.schema.js';
import { startServer, type RunningServer } from '../../apps/aggregator/src/server.js';
import { ApiKeyService } from '../../apps/aggregator/src/services/api-key.service.js';
import { openTestPglite, type TestDatabase } from '../support/databases.js';

let server: RunningServer;
let database: TestDatabase;
let keyDir: string;
const keys: Record<string, string> = {};

const scrape = async (headers: Record<string, string> = {}) => {
  const response = await fetch(`${server.url}/metrics`, { headers });
  return { status: response.status, text: await response.text() };
};

beforeAll(async () => {
  process.env.CONCORD_NO_AUTORUN = '1';
  keyDir = mkdtempSync(join(tmpdir(), 'concord-metrics-auth-'));
  database = await openTestPglite();
  server = await startServer({
    config: serverConfigSchema.parse({
      port: 0,
      keyDir,
      dataDir: 'memory',
      logLevel: 'silent',
      metricsAuth: 'api-key',
    }),
    database,
  });
  const apiKeys = server.app.get(ApiKeyService);
  for (const role of ['admin', 'auditor', 'site'] as const) {
    keys[role] = (await apiKeys.create({ role, name: `test ${role}` })).key;
  }
}, 60_000);

afterAll(async () => {
  await server?.close();
  rmSync(keyDir, { recursive: true, force: true });
});

describe('/metrics with --metrics-auth api-key', () => {
  it('refuses a scrape without a key (401) or with a site key (403), with codes and no metrics', async () => {
    const anonymous = await scrape();
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.text)).toMatchObject({ code: 'E_UNAUTHENTICATED' });
    const wrong = await scrape({ authorization: 'Bearer concord_not_a_key' });
    expect(wrong.status).toBe(401);
    const site = await scrape({ 'x-api-key': keys.site });
    expect(site.status).toBe(403);
    expect(JSON.parse(site.text)).toMatchObject({ code: 'E_FORBIDDEN' });
    expect(site.text).not.toMatch(/concord_/);
  });

  it('serves an auditor or admin key given as a Prometheus bearer token', async () => {
    for (const role of ['auditor', 'admin']) {
      const ok = await scrape({ authorization: `Bearer ${keys[role]}` });
      expect(ok.status, role).toBe(200);
      expect(ok.text).toMatch(/# TYPE concord_process_cpu_seconds_total counter/);
    }
  });
});
