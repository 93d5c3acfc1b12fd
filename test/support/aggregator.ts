import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { settingsFromSpec } from '../../apps/aggregator/src/federation/settings-from-spec.js';
import { FederationRepository } from '../../apps/aggregator/src/repositories/federation.repository.js';
import { EnrollmentService } from '../../apps/aggregator/src/services/enrollment.service.js';
import { openMigratedDatabase, startServer, type RunningServer } from '../../apps/aggregator/src/server.js';
import { loopbackServerConfig } from '../../apps/aggregator/src/simulation/loopback-config.js';

export interface TestAggregator {
  server: RunningServer;
  keyDir: string;
  /** a federation from a spec (FederationSpec input), with rounds started by the test, not automatically */
  createFederation(spec: Record<string, unknown>, cohortSize: number): Promise<string>;
  issueToken(federationId: string): Promise<string>;
  close(): Promise<void>;
}

/** A real aggregator (Nest + socket.io + in-memory PGlite) on a loopback port; rounds start only when a test says. */
export async function startTestAggregator(): Promise<TestAggregator> {
  const keyDir = mkdtempSync(join(tmpdir(), 'concord-test-keys-'));
  const previous = process.env.CONCORD_NO_AUTORUN;
  process.env.CONCORD_NO_AUTORUN = '1';
  const database = await openMigratedDatabase({ dataDir: 'memory' });
  const server = await startServer({
    config: loopbackServerConfig(keyDir),
    database,
  });
  return {
    server,
    keyDir,
    async createFederation(spec, cohortSize) {
      const { settings } = settingsFromSpec(spec, { cohortSize });
      const federation = await server.app.get(FederationRepository).create({
        name: String(spec.name ?? 'test'),
        spec: settings as unknown as Record<string, unknown>,
      });
      return federation.id;
    },
    async issueToken(federationId) {
      return (await server.app.get(EnrollmentService).issueToken(federationId)).token;
    },
    async close() {
      await server.close();
      rmSync(keyDir, { recursive: true, force: true });
      if (previous === undefined) delete process.env.CONCORD_NO_AUTORUN;
      else process.env.CONCORD_NO_AUTORUN = previous;
    },
  };
}
