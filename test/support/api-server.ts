import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverConfigSchema } from '../../apps/aggregator/src/config/config.schema.js';
import { loadServerConfig } from '../../apps/aggregator/src/config/load-config.js';
import type { ApiKeyRole } from '../../apps/aggregator/src/repositories/api-key.repository.js';
import { startServer, type RunningServer } from '../../apps/aggregator/src/server.js';
import { ApiKeyService } from '../../apps/aggregator/src/services/api-key.service.js';
import { openTestPglite, type TestDatabase } from './databases.js';

export interface ApiTestServer {
  server: RunningServer;
  database: TestDatabase;
  /** one live API key per requested role */
  keys: Partial<Record<ApiKeyRole, string>>;
  close(): Promise<void>;
}

/**
 * A real aggregator (Nest on a loopback port, in-memory PGlite, no automatic rounds) for the REST tests, with an API
 * key for each of `roles`. `env` is set only while the server starts (settings read at boot, e.g. the rate limit).
 */
export async function startApiTestServer(
  o: { roles?: ApiKeyRole[]; config?: Record<string, unknown>; env?: Record<string, string> } = {},
): Promise<ApiTestServer> {
  process.env.CONCORD_NO_AUTORUN = '1';
  const keyDir = mkdtempSync(join(tmpdir(), 'concord-api-'));
  const database = await openTestPglite();
  const previous = Object.fromEntries(Object.keys(o.env ?? {}).map((k) => [k, process.env[k]]));
  Object.assign(process.env, o.env);
  let server: RunningServer;
  try {
    server = await startServer({
      // `env` goes through the config schema like `concord serve`'s environment (e.g. CONCORD_RATE_LIMIT_PER_MINUTE)
      config: serverConfigSchema.parse({
        ...loadServerConfig({ flags: {}, env: { CONCORD_NO_AUTORUN: '1', ...o.env } }),
        port: 0,
        keyDir,
        dataDir: 'memory',
        logLevel: 'silent',
        ...o.config,
      }),
      database,
    });
  } finally {
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const keys: ApiTestServer['keys'] = {};
  const apiKeys = server.app.get(ApiKeyService);
  for (const role of o.roles ?? []) keys[role] = (await apiKeys.create({ role, name: `test ${role}` })).key;
  return {
    server,
    database,
    keys,
    async close() {
      await server.close();
      rmSync(keyDir, { recursive: true, force: true });
    },
  };
}
