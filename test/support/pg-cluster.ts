/**
 * A throwaway PostgreSQL 15 cluster made by the test itself (initdb in a temporary directory, started on a free
 * loopback port), so a test can kill connections, stop and restart the server without touching the shared one.
 * Needs the Debian binaries (/usr/lib/postgresql/15/bin); as root they run as the `postgres` user via runuser.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface PgCluster {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database?: string): string;
  createDatabase(name: string): Promise<void>;
  /** pg_terminate_backend of every backend connected to `database` (except the one asking); returns how many */
  terminate(database: string): Promise<number>;
  stop(): void;
  start(): void;
  /** pg_ctl restart -m fast */
  restart(): void;
  destroy(): void;
}

/** True when a throwaway cluster can be made here (the binaries exist and we are root or postgres). */
export function canMakePgCluster(): boolean {
  return existsSync(join(PG_BIN, 'initdb')) && (process.getuid?.() === 0 || process.env.USER === 'postgres');
}

function asPostgres(cmd: string, args: string[]): string {
  const argv = process.getuid?.() === 0 ? ['-u', 'postgres', '--', join(PG_BIN, cmd), ...args] : args;
  return execFileSync(process.getuid?.() === 0 ? 'runuser' : join(PG_BIN, cmd), argv, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function makePgCluster(): Promise<PgCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-pgcluster-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
  const pgctl = (...args: string[]) => asPostgres('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), ...args]);
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const admin = async <T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> => {
    const sql = postgres(url(), { max: 1, onnotice: () => {} });
    try {
      return await fn(sql);
    } finally {
      await sql.end({ timeout: 1 });
    }
  };
  pgctl('start', '-w', '-t', '60');
  return {
    port,
    url,
    createDatabase: (name) => admin(async (sql) => void (await sql.unsafe(`create database "${name}"`))),
    terminate: (database) =>
      admin(async (sql) => {
        const rows = await sql`select pg_terminate_backend(pid) as ok from pg_stat_activity
          where datname = ${database} and pid <> pg_backend_pid()`;
        return rows.filter((r) => r.ok).length;
      }),
    stop: () => void pgctl('stop', '-m', 'fast', '-w', '-t', '60'),
    start: () => void pgctl('start', '-w', '-t', '60'),
    restart: () => void pgctl('restart', '-m', 'fast', '-w', '-t', '60'),
    destroy() {
      try {
        pgctl('stop', '-m', 'immediate', '-w', '-t', '30');
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
