/**
 * docs/tutorial.md "A real federation in ten minutes", run as written: every ```sh tutorial block, in order, in one
 * bash shell (so variables carry over), with the port and the database URL replaced by a free loopback port and a
 * throwaway PostgreSQL database, and `npx concord` / `npx concord-agent` by the compiled bins. Long-running commands
 * end in `&`; `concord federation wait` waits for them; whatever is still running is stopped at the end.
 * Needs PostgreSQL (DATABASE_URL); skipped without it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENT_BIN, CONCORD_BIN } from '../support/cli.js';
import { openTestServerDatabase, type TestDatabase } from '../support/databases.js';

const TUTORIAL = readFileSync(new URL('../../docs/tutorial.md', import.meta.url), 'utf8');
const SECTION = 'A real federation in ten minutes';

/** The ```sh tutorial blocks of one section, in order, with the list indentation removed. */
export function tutorialBlocks(markdown: string, section: string): string[] {
  const start = markdown.indexOf(`## ${section}`);
  if (start < 0) throw new Error(`no section "${section}"`);
  const next = markdown.indexOf('\n## ', start + 3);
  const text = markdown.slice(start, next < 0 ? undefined : next);
  const blocks: string[] = [];
  const fence = /^( *)```sh tutorial\n([\s\S]*?)^\1```$/gm;
  for (const m of text.matchAll(fence)) {
    const indent = m[1].length;
    blocks.push(
      m[2]
        .split('\n')
        .map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)))
        .join('\n'),
    );
  }
  return blocks;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const serverUrl = process.env.DATABASE_URL;
let database: TestDatabase | undefined;
const dir = mkdtempSync(join(tmpdir(), 'concord-tutorial-'));

afterAll(async () => {
  await database?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('docs/tutorial.md', () => {
  it('has the tutorial blocks in order: serve, CLI, federation, agents, wait, evaluation, model, audit', () => {
    const blocks = tutorialBlocks(TUTORIAL, SECTION);
    expect(blocks.length).toBe(8);
    expect(blocks[5]).toMatch(/concord model list/);
    expect(blocks[0]).toMatch(/concord serve --port 3000 .*&$/m);
    expect(blocks.join('\n')).toMatch(/concord federation wait/);
  });

  it.skipIf(!serverUrl)(
    'runs as written against a real serve on PostgreSQL with three real agents',
    { timeout: 900_000 },
    async () => {
      database = await openTestServerDatabase(serverUrl!, { migrate: false });
      const port = await freePort();
      const body = tutorialBlocks(TUTORIAL, SECTION)
        .join('\n')
        .replaceAll('postgres://postgres@127.0.0.1:5432/concord', database.url!)
        .replaceAll('3000', String(port))
        .replaceAll('npx concord-agent ', `node ${AGENT_BIN} `)
        .replaceAll('npx concord ', `node ${CONCORD_BIN} `);
      // every background job is stopped when the script ends, however it ends
      const script = `set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n${body}\n`;
      const child = spawn('bash', ['-c', script], {
        cwd: dir,
        env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: join(dir, '.config') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 840_000);
        child.once('close', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      const logs = ['serve.log', 'site-0.log']
        .map((f) => {
          try {
            return `--- ${f}\n${readFileSync(join(dir, f), 'utf8').slice(-3000)}`;
          } catch {
            return '';
          }
        })
        .join('\n');
      expect(code, `${out}\n${logs}`).toBe(0);
      expect(out).toMatch(/completed: 5\/5 rounds released/);
      expect(out).toMatch(/certificate: signature valid, signs this file/);
      expect(out).toMatch(/audit: all checks hold/);
      // the audit names sites as the dashboard and `concord budgets` do
      expect(out).toMatch(/ {2}site site-[0-9a-f]{8} \([0-9a-f-]{36}\): epsilon/);
      expect(out).toMatch(/[0-9a-f]{64} {2}model\/tutorial-v\d+\.safetensors/);
      // the private evaluation: versions 2, 4 and 5 carry a noisy accuracy whose noise std is at most 1 point
      const evaluated = [...out.matchAll(/^([245]) +\S+ +(0\.\d{4}) ± (0\.\d{4}) +(\d\.\d{4}) ± (0\.\d{4})/gm)];
      expect(evaluated.map((m) => m[1]).sort(), out).toEqual(['2', '4', '5']);
      for (const m of evaluated) expect(Number(m[3])).toBeLessThanOrEqual(0.01);
    },
  );
});
