/**
 * `npm run chaos`: faults injected at random points into a live federation of real processes, then checked.
 *
 *   npm run chaos -- [--faults 100] [--minutes 60] [--sites 3] [--seed 1] [--recover-s 240]
 *                    [--kinds aggregator,agent,db-connections]
 *                    [--database-url postgres://postgres@127.0.0.1:5432/postgres] [--json FILE]
 *
 * Starts `concord serve` on a throwaway database (CREATE DATABASE concord_chaos_<random> on the given server,
 * dropped at the end), a federation (MNIST, local DP) and `--sites` real `concord-agent run` processes, all on
 * loopback. Then, until `--faults` faults or `--minutes` have passed, after a random pause (so faults land in
 * every round state) it injects one of: SIGKILL + restart of the aggregator, SIGKILL + restart of one agent,
 * pg_terminate_backend of the throwaway database's connections (by datname: no other database is touched). After
 * each it waits for the federation to release a new round (time to recover) and runs `concord audit`. It prints
 * the table of faults by kind and round state, rounds released, audits clean, and charges lost, doubled and
 * local-only (bench/chaos/ledger-check.ts), and every exit nobody asked for: processes run under a supervisor that
 * restarts them after 2 s (as systemd Restart=always would); an agent may stop by itself on purpose
 * (E_TOO_MANY_ABORTS after R aborted rounds in a row), which is reported; an aggregator crash is a failure. Exit 1
 * when an audit failed, a charge was lost or doubled, the aggregator crashed, or the federation did not recover. Uses the built JavaScript: run `npm run build:ts` after changing sources.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { checkCharges } from './ledger-check.js';
import { AGENT_BIN, CONCORD_BIN, Restartable, freePort, runBin } from './processes.js';

const { values: o } = parseArgs({
  options: {
    faults: { type: 'string', default: '100' },
    minutes: { type: 'string', default: '60' },
    sites: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    'recover-s': { type: 'string', default: '240' },
    'database-url': {
      type: 'string',
      default: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    },
    kinds: { type: 'string', default: 'aggregator,agent,db-connections' },
    json: { type: 'string' },
  },
});
const FAULTS = Number(o.faults);
const SITES = Number(o.sites);
const DEADLINE = Date.now() + Number(o.minutes) * 60_000;
const RECOVER_MS = Number(o['recover-s']) * 1000;
const KINDS = ['aggregator', 'agent', 'db-connections'] as const;
type Kind = (typeof KINDS)[number];
const CHOSEN = o.kinds!.split(',').filter((k): k is Kind => (KINDS as readonly string[]).includes(k));

// a small deterministic generator (mulberry32) so a run's fault schedule repeats with its --seed
let state = Number(o.seed) >>> 0 || 1;
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface FaultRecord {
  kind: Kind;
  roundState: string;
  recovered: boolean;
  recoverMs?: number;
  auditClean: boolean;
}

async function main(): Promise<number> {
  const base = new URL(o['database-url']!);
  const dbName = `concord_chaos_${randomBytes(6).toString('hex')}`;
  const admin = postgres(base.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  const dbUrl = new URL(base);
  dbUrl.pathname = `/${dbName}`;
  const url = dbUrl.toString();
  const work = mkdtempSync(join(tmpdir(), 'concord-chaos-'));
  const port = await freePort();
  const serverUrl = `http://127.0.0.1:${port}`;
  const limits = {
    CONCORD_ENROLL_PER_MINUTE_PER_IP: '1000000',
    CONCORD_AGENT_PRE_AUTH_CONNECTIONS_PER_IP: '100000',
    CONCORD_AGENT_PRE_AUTH_MESSAGES_PER_MINUTE_PER_IP: '10000000',
    CONCORD_RATE_LIMIT_PER_MINUTE: '1000000',
  };
  const server = new Restartable(
    'aggregator',
    CONCORD_BIN,
    ['serve', '--port', String(port), '--database-url', url, '--key-dir', join(work, 'keys'), '--log-level', 'warn'],
    limits,
    true, // a crash is restarted so the run goes on, and counted as a failure
  );
  const agents: Restartable[] = [];
  const monitor = postgres(url, { max: 1, onnotice: () => {} });
  const records: FaultRecord[] = [];
  const started = Date.now();
  try {
    await server.start(/listening on /);
    const key = JSON.parse(
      runBin(CONCORD_BIN, ['keys', 'create', '--role', 'admin', '--database-url', url, '--json']).stdout,
    ).key as string;
    const api = async (method: string, path: string, body?: unknown) => {
      const send = () =>
        fetch(serverUrl + path, {
          method,
          headers: { 'x-api-key': key, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      // a kept-alive connection may have been closed by the server while a child ran synchronously: once more
      const r = await send().catch(async () => {
        await sleep(200);
        return send();
      });
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
      return (await r.json()) as Record<string, unknown>;
    };
    const spec = {
      version: 1,
      name: 'chaos',
      dataset: { kind: 'mnist' },
      privacy: { mode: 'local', epsilon: 50, delta: 1e-5 },
      rounds: 100_000,
      cohort: { size: SITES, minSites: 2 },
      watermark: { enabled: false },
    };
    const federationId = (await api('POST', '/api/federations', { spec, start: true })).id as string;
    const stateDirs: string[] = [];
    for (let i = 0; i < SITES; i++) {
      const { token } = (await api('POST', `/api/federations/${federationId}/tokens`, {})) as { token: string };
      const dir = join(work, `site-${i}`);
      const enrolled = runBin(AGENT_BIN, [
        'enroll',
        '--server',
        serverUrl,
        '--token',
        token,
        '--max-epsilon',
        '50.001',
        '--delta',
        '1e-5',
        '--state-dir',
        dir,
      ]);
      if (enrolled.status !== 0) throw new Error(`enroll site ${i}: ${enrolled.stderr}`);
      stateDirs.push(dir);
      const agent = new Restartable(
        `agent-${i}`,
        AGENT_BIN,
        ['run', '--state-dir', dir, '--dataset', 'mnist', '--shard', `${i}/${SITES}`, '--seed', '3', '--json'],
        {},
        true, // restarted like a service when it stops by itself (reported: e.g. E_TOO_MANY_ABORTS by design)
      );
      agents.push(agent);
      await agent.start();
    }
    const released = async () =>
      (
        await monitor`select count(*)::int as n from rounds where federation_id = ${federationId} and state = 'released'`
      )[0].n as number;
    const roundState = async () =>
      ((await monitor`select state from rounds where federation_id = ${federationId} order by number desc limit 1`)[0]
        ?.state as string | undefined) ?? 'none';
    const waitForRelease = async (after: number, timeoutMs: number) => {
      const t0 = Date.now();
      while (Date.now() - t0 < timeoutMs) {
        if ((await released().catch(() => after)) > after) return Date.now() - t0;
        await sleep(500);
      }
      return undefined;
    };
    process.stderr.write(`chaos: federation ${federationId}, ${SITES} agents, database ${dbName}\n`);
    if ((await waitForRelease(0, RECOVER_MS)) === undefined) throw new Error('no round released before any fault');

    while (records.length < FAULTS && Date.now() < DEADLINE) {
      await sleep(1000 + random() * 12_000);
      const kind = CHOSEN[Math.floor(random() * CHOSEN.length)];
      const before = await released();
      const at = await roundState();
      const t0 = Date.now();
      if (kind === 'aggregator') {
        await server.kill();
        await server.start(/listening on /);
      } else if (kind === 'agent') {
        const agent = agents[Math.floor(random() * agents.length)];
        await agent.kill();
        await agent.start();
      } else {
        await monitor`select pg_terminate_backend(pid) from pg_stat_activity
          where datname = ${dbName} and pid <> pg_backend_pid()`;
      }
      const waited = await waitForRelease(before, RECOVER_MS);
      const audit = runBin(CONCORD_BIN, ['audit', '--database-url', url, '--federation', federationId, '--json']);
      const auditClean = audit.status === 0 && (JSON.parse(audit.stdout || '{}') as { ok?: boolean }).ok === true;
      const record: FaultRecord = {
        kind,
        roundState: at,
        recovered: waited !== undefined,
        recoverMs: waited === undefined ? undefined : Date.now() - t0,
        auditClean,
      };
      records.push(record);
      if (!auditClean)
        process.stderr.write(`audit (${audit.status}): ${audit.stdout.slice(0, 1500)} ${audit.stderr.slice(-1500)}\n`);
      if (!record.recovered) process.stderr.write(`aggregator log (tail):\n${server.log.slice(-4000)}\n`);
      process.stderr.write(
        `fault ${records.length}: ${kind} during ${at}: ${record.recovered ? `recovered in ${record.recoverMs} ms` : 'NOT recovered'}, audit ${auditClean ? 'clean' : 'FAILED'}\n`,
      );
    }
    for (const a of agents) await a.kill();
    await server.kill();
    const charges = await checkCharges(monitor, federationId, stateDirs);
    const report = {
      faults: records.length,
      minutes: (Date.now() - started) / 60_000,
      sites: SITES,
      seed: Number(o.seed),
      records,
      charges,
      unexpectedExits: {
        aggregator: server.unexpectedExits,
        agents: agents.flatMap((a) => a.unexpectedExits.map((e) => ({ agent: a.name, ...e }))),
      },
    };
    printTable(report.records, charges, report.minutes);
    const agentStops = new Map<string, number>();
    for (const e of report.unexpectedExits.agents)
      agentStops.set(e.error ?? `exit ${e.code}`, (agentStops.get(e.error ?? `exit ${e.code}`) ?? 0) + 1);
    process.stdout.write(
      `unexpected exits: aggregator ${server.unexpectedExits.length} (each a failure); agents ${
        report.unexpectedExits.agents.length
      } (restarted by the supervisor${agentStops.size ? `: ${[...agentStops].map(([k, n]) => `${k} x${n}`).join(', ')}` : ''})\n`,
    );
    if (o.json) writeFileSync(o.json, JSON.stringify(report, null, 2));
    const bad =
      records.some((r) => !r.recovered || !r.auditClean) ||
      charges.lost > 0 ||
      charges.doubled > 0 ||
      server.unexpectedExits.length > 0;
    return bad ? 1 : 0;
  } catch (error) {
    process.stderr.write(`aggregator log (tail):\n${server.log.slice(-3000)}\n`);
    throw error;
  } finally {
    for (const a of agents) await a.kill().catch(() => {});
    await server.kill().catch(() => {});
    await monitor.end({ timeout: 1 }).catch(() => {});
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`).catch(() => {});
    await admin.end({ timeout: 1 }).catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
}

function printTable(records: FaultRecord[], charges: Awaited<ReturnType<typeof checkCharges>>, minutes: number): void {
  const states = [...new Set(records.map((r) => r.roundState))].sort();
  const lines = [
    `| fault \\ round state | ${states.join(' | ')} | total | recovered | audits clean | median / max recovery (s) |`,
  ];
  lines.push(`|---|${states.map(() => '---|').join('')}---|---|---|---|`);
  for (const kind of KINDS) {
    const of = records.filter((r) => r.kind === kind);
    const times = of
      .filter((r) => r.recovered)
      .map((r) => r.recoverMs! / 1000)
      .sort((a, b) => a - b);
    const median = times.length ? times[Math.floor(times.length / 2)].toFixed(1) : '-';
    const max = times.length ? times.at(-1)!.toFixed(1) : '-';
    lines.push(
      `| ${kind} | ${states.map((s) => of.filter((r) => r.roundState === s).length).join(' | ')} | ${of.length} | ${
        of.filter((r) => r.recovered).length
      } | ${of.filter((r) => r.auditClean).length} | ${median} / ${max} |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
  process.stdout.write(
    `faults ${records.length} in ${minutes.toFixed(1)} min; rounds released ${charges.releasedRounds}; audits clean ${
      records.filter((r) => r.auditClean).length
    }/${records.length}; charges: server ${charges.serverCharges}, local ${charges.localCharges}, lost ${charges.lost}, doubled ${
      charges.doubled
    }, local-only ${charges.localOnly}\n`,
  );
}

process.exitCode = await main().catch((error: unknown) => {
  process.stderr.write(`chaos: ${error instanceof Error ? error.stack : String(error)}\n`);
  return 2;
});
