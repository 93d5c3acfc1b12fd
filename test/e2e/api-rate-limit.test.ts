/** The token and key endpoints are rate-limited per client (CONCORD_RATE_LIMIT_PER_MINUTE); other routes are not. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../apps/aggregator/src/server.js';
import { startApiTestServer, type ApiTestServer } from '../support/api-server.js';

let api: ApiTestServer;
let server: RunningServer;
let admin: string;

beforeAll(async () => {
  api = await startApiTestServer({ roles: ['admin'], env: { CONCORD_RATE_LIMIT_PER_MINUTE: '3' } });
  server = api.server;
  admin = api.keys.admin!;
}, 60_000);

afterAll(async () => {
  await api?.close();
});

describe('rate limits', () => {
  it('answers 429 E_RATE_LIMITED past the limit on /api/keys, and leaves /api/federations alone', async () => {
    const create = () =>
      fetch(`${server.url}/api/keys`, {
        method: 'POST',
        headers: { 'x-api-key': admin, 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'auditor', name: 'r' }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await create()).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    const limited = (await (await create()).json()) as { code: string };
    expect(limited.code).toBe('E_RATE_LIMITED');
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${server.url}/api/federations`, { headers: { 'x-api-key': admin } });
      expect(r.status).toBe(200);
    }
  });
});
