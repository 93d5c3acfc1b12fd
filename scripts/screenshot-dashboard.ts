/**
 * The dashboard screenshot of a REAL federation with private evaluation (docs/img/dashboard-evaluation.png):
 * `concord serve` on a throwaway PostgreSQL database, an admin key, a federation from a spec (MNIST, local DP,
 * epsilon 2.9, 6 rounds, cohorts of 3, an evaluation round after every 2nd version), three `concord-agent`
 * processes enrolled with one-time tokens (as docs/tutorial.md does), then headless Chromium on the dashboard once
 * the federation completed. Everything it starts is stopped and the database dropped, however it ends.
 *
 *   npm run build:ts && npm run build:web
 *   npx tsx scripts/screenshot-dashboard.ts [--out docs/img/dashboard-evaluation.png]
 *     [--database-url postgres://postgres@127.0.0.1:5432/postgres] [--timeout 1200]
 *
 * Needs /usr/bin/chromium (apt-get install chromium) and a PostgreSQL server where this user may create databases.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import postgres from 'postgres';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONCORD = join(ROOT, 'apps/aggregator/bin/concord.js');
const AGENT = join(ROOT, 'apps/client-agent/bin/concord-agent.js');
const WEB = join(ROOT, 'apps/aggregator/web/dist/index.html');
const CHROMIUM = '/usr/bin/chromium';
const SITES = 3;

const SPEC = `version: 1
name: mnist-private-evaluation
dataset: { kind: mnist }
privacy: { mode: local, epsilon: 2.9, delta: 1.0e-5 }
rounds: 6
cohort: { size: ${SITES} }
evaluation: { every: 2 }
`;

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: join(ROOT, 'docs/img/dashboard-evaluation.png') },
    'database-url': {
      type: 'string',
      default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    },
    timeout: { type: 'string', default: '1200' },
  },
});

const children: ChildProcess[] = [];
const log = (line: string) => console.log(`[screenshot] ${line}`);

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
  });
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Runs a bin to completion; its stdout, or an error with its stderr. */
function run(bin: string, argv: string[], env: NodeJS.ProcessEnv, cwd: string): string {
  const r = spawnSync(process.execPath, [bin, ...argv], { env, cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${bin} ${argv.join(' ')}: exit ${r.status}\n${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

/** Starts a long-running bin with its output in `logFile`. */
function start(bin: string, argv: string[], env: NodeJS.ProcessEnv, cwd: string, logFile: string): ChildProcess {
  const out = openSync(join(cwd, logFile), 'a');
  const child = spawn(process.execPath, [bin, ...argv], { env, cwd, stdio: ['ignore', out, out] });
  children.push(child);
  return child;
}

async function waitForHealth(url: string, seconds: number): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    const ok = await fetch(`${url}/health`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`the server at ${url} did not become healthy in ${seconds} s`);
}

async function screenshot(url: string, key: string, out: string): Promise<void> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
    await page.goto(`${url}/`);
    await page.fill('#api-key', key);
    await page.click('#key-form button');
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 30_000 });
    // the evaluated versions are on the chart (error bars) and in the list as `x ± std`
    await page.waitForSelector('#quality-chart:not([data-evaluated-points="0"])[data-evaluated-points]', {
      timeout: 30_000,
    });
    const evaluated = await page.getAttribute('#quality-chart', 'data-evaluated-points');
    const cells = await page.$$eval('#models tbody tr.evaluated td:nth-child(2)', (tds) =>
      tds.map((td) => td.textContent ?? ''),
    );
    if (!cells.every((c) => c.includes('±'))) throw new Error(`evaluated versions without ± std: ${cells.join(', ')}`);
    log(`dashboard: ${evaluated} privately evaluated versions, accuracy ${cells.join('; ')}`);
    await page.evaluate(() => document.querySelector('#connection')!.replaceChildren()); // no clock in the image
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: true });
    log(`wrote ${out}`);
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  for (const [file, how] of [
    [CONCORD, 'npm run build:ts'],
    [WEB, 'npm run build:web'],
    [CHROMIUM, 'apt-get install chromium'],
  ])
    if (!existsSync(file)) throw new Error(`${file} is missing (${how})`);
  const serverUrl = args['database-url']!;
  const name = `concord_screenshot_${randomBytes(4).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  const dir = mkdtempSync(join(tmpdir(), 'concord-screenshot-'));
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  log(`database ${name}, working directory ${dir}`);
  try {
    const port = await freePort();
    const server = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: withDatabase(serverUrl, name),
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, '.config'),
    };
    const key = (
      JSON.parse(run(CONCORD, ['keys', 'create', '--role', 'admin', '--name', 'screenshot', '--json'], env, dir)) as {
        key: string;
      }
    ).key;
    start(CONCORD, ['serve', '--port', String(port), '--key-dir', join(dir, 'keys')], env, dir, 'serve.log');
    await waitForHealth(server, 90);
    const cli = { ...env, CONCORD_SERVER: server, CONCORD_API_KEY: key };
    writeFileSync(join(dir, 'spec.yaml'), SPEC);
    const federation = run(CONCORD, ['federation', 'create', '--spec', 'spec.yaml'], cli, dir);
    const tokens = run(CONCORD, ['token', 'create', '--federation', federation, '--count', String(SITES)], cli, dir)
      .split('\n')
      .filter(Boolean);
    log(`federation ${federation}: ${tokens.length} tokens`);
    for (let i = 0; i < SITES; i++) {
      const stateDir = join(dir, `site-${i}`);
      run(
        AGENT,
        [
          'enroll',
          '--server',
          server,
          '--token',
          tokens[i],
          '--max-epsilon',
          '3',
          '--delta',
          '1e-5',
          '--state-dir',
          stateDir,
        ],
        cli,
        dir,
      );
      start(
        AGENT,
        ['run', '--state-dir', stateDir, '--dataset', 'mnist', '--shard', `${i}/${SITES}`],
        cli,
        dir,
        `site-${i}.log`,
      );
    }
    const started = Date.now();
    const waited = spawnSync(
      process.execPath,
      [CONCORD, 'federation', 'wait', federation, '--timeout', args.timeout!],
      {
        env: cli,
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    log(`federation wait (${((Date.now() - started) / 1000).toFixed(0)} s): ${waited.stdout.trim()}`);
    if (waited.status !== 0)
      throw new Error(`the federation did not complete\n${readFileSync(join(dir, 'serve.log'), 'utf8').slice(-4000)}`);
    log(run(CONCORD, ['model', 'list', federation], cli, dir));
    await screenshot(server, key, resolve(args.out!));
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end({ timeout: 5 });
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
