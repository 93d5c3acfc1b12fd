/**
 * Database loss is a fault to survive (issue 16, finding 2): a live federation (real aggregator, real inline agents,
 * SecAgg+, ledger) on a throwaway PostgreSQL cluster this test makes itself. Its connections are killed with
 * pg_terminate_backend, then the server is stopped for a few seconds and started again, later restarted (pg_ctl restart -m fast): /health says degraded with
 * reasons while it is down, the dashboard API answers 503 E_DB_UNAVAILABLE, and the rounds resume by themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyService } from '../../apps/aggregator/src/services/api-key.service.js';
import { FederationRunnerService } from '../../apps/aggregator/src/services/federation-runner.service.js';
import type { SimulationResult } from '../../apps/aggregator/src/simulation/sim-options.js';
import { runSimulation } from '../../apps/aggregator/src/simulation/simulation.js';
import { canMakePgCluster, makePgCluster, type PgCluster } from '../support/pg-cluster.js';

const DB = 'concord_dbloss';

describe.skipIf(!canMakePgCluster())('database loss during a live federation (throwaway cluster)', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await makePgCluster();
    await cluster.createDatabase(DB);
  });
  afterAll(() => cluster?.destroy());

  it(
    'survives killed connections and a stopped server; /health and the API say so; rounds resume',
    { timeout: 400_000 },
    async () => {
      let url = '';
      let apiKey = '';
      let runner: FederationRunnerService | undefined;
      let federationId = '';
      const seen: {
        terminated?: number;
        health?: { status: number; body: unknown };
        api?: { status: number; body: unknown };
        state?: string;
      } = {};
      let released = 0;
      let outage: Promise<void> | undefined;
      let result: SimulationResult | undefined;
      try {
        result = await runSimulation({
          sites: 2,
          rounds: 5,
          partition: 'iid',
          mode: 'none',
          epsilon: 3,
          delta: 1e-5,
          accountant: 'rdp',
          dropout: 0,
          seed: 1,
          agents: 'inline',
          databaseUrl: cluster.url(DB),
          keepRunning: true,
          onReady: async (server, id) => {
            url = server.url;
            federationId = id;
            runner = server.app.get(FederationRunnerService);
            apiKey = (await server.app.get(ApiKeyService).create({ role: 'admin', name: 'db-loss test' })).key;
          },
          onRound: (r) => {
            if (r.state !== 'released') return;
            released += 1;
            if (released === 1) {
              void cluster.terminate(DB).then((n) => (seen.terminated = n));
            }
            if (released === 4) cluster.restart(); // pg_ctl restart -m fast: every connection is cut once more
            if (released === 2) {
              cluster.stop();
              outage = (async () => {
                // the runner notices at its next query, then waits for the database
                for (let i = 0; i < 100 && runner?.stateOf(federationId)?.state !== 'waiting-for-database'; i++) {
                  await new Promise((r) => setTimeout(r, 100));
                }
                seen.state = runner?.stateOf(federationId)?.state;
                const health = await fetch(`${url}/health`);
                seen.health = { status: health.status, body: await health.json() };
                const api = await fetch(`${url}/api/federations`, { headers: { 'x-api-key': apiKey } });
                seen.api = { status: api.status, body: await api.json() };
                cluster.start();
              })();
            }
          },
        });
        await outage;
        expect(seen.terminated).toBeGreaterThan(0);
        expect(seen.state).toBe('waiting-for-database');
        expect(seen.health?.status).toBe(503);
        expect(seen.health?.body).toMatchObject({
          status: 'degraded',
          reasons: expect.arrayContaining([
            expect.objectContaining({ code: 'E_DB_UNAVAILABLE' }),
            expect.objectContaining({ code: 'E_DB_UNAVAILABLE', federationId }),
          ]),
        });
        expect(seen.api).toMatchObject({ status: 503, body: { code: 'E_DB_UNAVAILABLE' } });
        expect(JSON.stringify(seen.api?.body)).not.toMatch(/select|insert|from "/i);
        expect(result.rounds).toBe(5);
        expect(result.ledgerVerified).toBe(true);
        // the rounds the loss failed say why without quoting SQL (their reasons are served by the API)
        const rounds = await fetch(`${url}/api/federations/${federationId}/rounds?limit=500`, {
          headers: { 'x-api-key': apiKey },
        });
        const roundsText = await rounds.text();
        expect(rounds.status).toBe(200);
        expect(roundsText).not.toMatch(/failed query|select |insert into|update "/i);
        const health = await fetch(`${url}/health`);
        expect(health.status).toBe(200);
        expect(await health.json()).toMatchObject({ status: 'ok', reasons: [] });
      } finally {
        await outage?.catch(() => {});
        await result?.close();
      }
    },
  );
});
