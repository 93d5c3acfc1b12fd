/**
 * Crash safety: the aggregator (`concord serve`, a child process) is SIGKILLed in the middle of a round and started
 * again on the same database and key directory. The agents reconnect by themselves, the interrupted round is failed
 * and retried as a new round, the federation finishes, and the ledger verifies with no charge lost or made twice.
 * PGlite data directory always; the PostgreSQL server too when DATABASE_URL is set.
 */
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { preprocessDataset } from '@concord/datasets';
import { openDatabase } from '../../apps/aggregator/src/db/client.js';
import { rounds as roundsTable } from '../../apps/aggregator/src/db/schema/rounds.js';
import { settingsFromSpec } from '../../apps/aggregator/src/federation/settings-from-spec.js';
import { EnrollmentTokenRepository } from '../../apps/aggregator/src/repositories/enrollment-token.repository.js';
import { FederationRepository } from '../../apps/aggregator/src/repositories/federation.repository.js';
import { SiteRepository } from '../../apps/aggregator/src/repositories/site.repository.js';
import { KeyRepository } from '../../apps/aggregator/src/repositories/key.repository.js';
import { LedgerRepository } from '../../apps/aggregator/src/repositories/ledger.repository.js';
import { openMigratedDatabase } from '../../apps/aggregator/src/server.js';
import { EnrollmentService } from '../../apps/aggregator/src/services/enrollment.service.js';
import { splitMnist } from '../../apps/aggregator/src/simulation/sim-settings.js';
import { runSimSite } from '../../apps/aggregator/src/simulation/sim-site.js';
import { CONCORD_BIN, startCli, stopChild } from '../support/cli.js';
import { openTestServerDatabase, type TestDatabase } from '../support/databases.js';

const ROUNDS = 4;
const SITES = 3;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const targets = [
  { name: 'pglite', serverUrl: undefined as string | undefined, skip: false },
  { name: 'postgres', serverUrl: process.env.DATABASE_URL, skip: !process.env.DATABASE_URL },
];

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe.each(targets)('aggregator SIGKILLed mid-round on $name', ({ serverUrl, skip }) => {
  it.skipIf(skip)(
    'resumes, retries the round, finishes, and the ledger verifies with no double charge',
    { timeout: 900_000 },
    async () => {
      const keyDir = mkdtempSync(join(tmpdir(), 'concord-crash-keys-'));
      const dataDir = mkdtempSync(join(tmpdir(), 'concord-crash-data-'));
      cleanups.push(() => rmSync(keyDir, { recursive: true, force: true }));
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      let serverDb: TestDatabase | undefined;
      if (serverUrl) {
        serverDb = await openTestServerDatabase(serverUrl);
        cleanups.push(() => serverDb!.dispose());
      }
      const storage = serverDb?.url ? ['--database-url', serverDb.url] : ['--data-dir', dataDir];
      const open = () => (serverDb?.url ? openDatabase({ url: serverDb.url }) : openMigratedDatabase({ dataDir }));

      // The operator's side, before the aggregator runs: a federation and one token per site.
      const { settings } = settingsFromSpec(
        {
          dataset: { kind: 'mnist' },
          rounds: ROUNDS,
          cohort: { size: SITES, minSites: SITES },
          privacy: { mode: 'local', epsilon: 3, delta: 1e-5 },
        },
        { cohortSize: SITES, timeouts: { planMs: 20_000, stageMs: 20_000, trainingMs: 120_000 } },
      );
      let db = await open();
      const federations = new FederationRepository(db.db);
      const federation = await federations.create({
        name: 'crash',
        spec: settings as unknown as Record<string, unknown>,
      });
      const enrollment = new EnrollmentService(
        {
          db: db.db,
          federations,
          sites: new SiteRepository(db.db),
          tokens: new EnrollmentTokenRepository(db.db),
        },
        new KeyRepository(keyDir),
      );
      const tokens = [];
      for (let i = 0; i < SITES; i++) tokens.push((await enrollment.issueToken(federation.id)).token);
      await db.close();

      const port = await freePort();
      const serve = () =>
        startCli(
          CONCORD_BIN,
          ['serve', '--port', String(port), '--key-dir', keyDir, '--log-level', 'silent', ...storage],
          /listening on (\S+)/,
          {
            env: { DATABASE_URL: '', CONCORD_DATABASE_URL: '' },
            timeoutMs: 120_000,
          },
        );
      let child: ChildProcess = (await serve()).child;
      cleanups.push(() => void stopChild(child));
      const url = `http://127.0.0.1:${port}`;

      const split = splitMnist(SITES, 'iid', 3);
      let released = 0;
      let killAt: (() => void) | undefined;
      const killed = new Promise<void>((resolve) => (killAt = resolve));
      const runs = split.shards.map((shard, i) => {
        const data = preprocessDataset(settings.preprocess, shard);
        return runSimSite({
          server: url,
          token: tokens[i],
          name: `site-${i}`,
          cap: { epsilon: 3.0001, delta: 1e-5 },
          data: { features: data.features, labels: data.labels, count: data.count, featureCount: data.featureCount },
          onEvent: (e) => {
            if (e.type === 'round-released' && i === 0) released = Math.max(released, e.roundNumber);
            // Kill while round 2 is in flight: the plan was accepted, training/masking is under way.
            if (e.type === 'plan-accepted' && i === 0 && released >= 1) killAt?.();
          },
        });
      });
      await killed;
      killAt = undefined;
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      child = (await serve()).child; // same database, same key directory, same port: agents reconnect by themselves

      const results = await Promise.all(runs);
      for (const r of results) expect(r.rounds).toBe(ROUNDS);
      await stopChild(child);

      db = await open();
      try {
        const rows = await db.db.select().from(roundsTable).where(eq(roundsTable.federationId, federation.id));
        const byState = (s: string) => rows.filter((r) => r.state === s);
        // every training round released; private evaluations are released rounds of their own (kind evaluation)
        expect(byState('released').filter((r) => r.kind === 'training')).toHaveLength(ROUNDS);
        expect(byState('failed').some((r) => /E_RESTARTED/.test(r.failureReason ?? ''))).toBe(true);
        expect(rows.filter((r) => !['released', 'failed'].includes(r.state))).toHaveLength(0);
        const ledger = new LedgerRepository(db.db);
        const verification = await ledger.verifyLedger(federation.id);
        expect(verification.findings).toEqual([]);
        expect(verification.ok).toBe(true);
        const entries = await ledger.entries(federation.id);
        const perRound = new Map<string, number>();
        for (const e of entries) perRound.set(e.roundId, (perRound.get(e.roundId) ?? 0) + 1);
        for (const r of byState('released')) expect(perRound.get(r.id)).toBe(SITES);
        // The interrupted round keeps whatever it charged before the kill: all of its cohort or none, never twice.
        for (const r of byState('failed')) expect([0, SITES]).toContain(perRound.get(r.id) ?? 0);
        const pairs = new Set(entries.map((e) => `${e.siteId}/${e.roundId}`));
        expect(pairs.size).toBe(entries.length);
      } finally {
        await db.close();
      }
    },
  );
});
