import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../src/config/load-config.js';
import { type RunningServer, startServer } from '../src/server.js';
import { HealthService } from '../src/services/health.service.js';

describe('the aggregator boots on embedded PGlite', () => {
  let server: RunningServer;

  beforeAll(async () => {
    const config = loadServerConfig({ flags: { port: 0, dataDir: 'memory', logLevel: 'silent' }, env: {} });
    server = await startServer({ config });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('listens on a free loopback port', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).not.toMatch(/:0$/);
  });

  it('answers GET /health with the storage driver and migrations, without authentication', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      reasons: [],
      storage: { driver: 'pglite', reachable: true, migrationsApplied: true },
    });
  });

  it('injects constructor dependencies (decorator metadata is emitted)', () => {
    const health = server.app.get(HealthService);
    expect(health).toBeInstanceOf(HealthService);
    expect((health as unknown as { database: unknown }).database).toBeDefined();
  });
});
