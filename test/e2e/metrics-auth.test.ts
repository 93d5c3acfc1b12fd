/**
 * `concord serve --metrics-auth api-key`: GET /metrics needs an admin, operator or auditor key (401 / 403 with codes
 * otherwise); the default stays open for scrapers (checked in api.test.ts). Real Nest app on loopback, PGlite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../apps/aggregator/src/server.js';
import { startApiTestServer, type ApiTestServer } from '../support/api-server.js';

let api: ApiTestServer;
let server: RunningServer;
let keys: ApiTestServer['keys'];

const scrape = async (headers: Record<string, string> = {}) => {
  const response = await fetch(`${server.url}/metrics`, { headers });
  return { status: response.status, text: await response.text() };
};

beforeAll(async () => {
  api = await startApiTestServer({ roles: ['admin', 'auditor', 'site'], config: { metricsAuth: 'api-key' } });
  ({ server, keys } = api);
}, 60_000);

afterAll(async () => {
  await api?.close();
});

describe('/metrics with --metrics-auth api-key', () => {
  it('refuses a scrape without a key (401) or with a site key (403), with codes and no metrics', async () => {
    const anonymous = await scrape();
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.text)).toMatchObject({ code: 'E_UNAUTHENTICATED' });
    const wrong = await scrape({ authorization: 'Bearer concord_not_a_key' });
    expect(wrong.status).toBe(401);
    const site = await scrape({ 'x-api-key': keys.site! });
    expect(site.status).toBe(403);
    expect(JSON.parse(site.text)).toMatchObject({ code: 'E_FORBIDDEN' });
    expect(site.text).not.toMatch(/concord_/);
  });

  it('serves an auditor or admin key given as a Prometheus bearer token', async () => {
    for (const role of ['auditor', 'admin']) {
      const ok = await scrape({ authorization: `Bearer ${keys[role as 'auditor' | 'admin']}` });
      expect(ok.status, role).toBe(200);
      expect(ok.text).toMatch(/# TYPE concord_process_cpu_seconds_total counter/);
    }
  });
});
