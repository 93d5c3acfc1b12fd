/**
 * The operator CLI (`concord federation|token|model|budgets`) against a real `concord serve` subprocess on an
 * embedded database: connection settings from flags, env and the config file, every command's human and --json
 * output, exit codes (0 done, 1 refused / timed out, 2 bad input or unreachable), and a model download whose
 * certificate signs the downloaded file. A released model is put in the database while the server is stopped (no
 * agents here: the real-agent path is the tutorial test's).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { readSafetensors, verifyOwnershipCertificate } from '@concord/watermark';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../apps/aggregator/src/db/client.js';
import { modelVersions } from '../../apps/aggregator/src/db/schema/model-versions.js';
import { rounds } from '../../apps/aggregator/src/db/schema/rounds.js';
import { CONCORD_BIN, type CliResult, runCliAsync, startCli, stopChild } from '../support/cli.js';

const MNIST_YAML = new URL('../../examples/mnist.yaml', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'concord-opcli-'));
const dataDir = join(dir, 'data');
const keyDir = join(dir, 'keys');
// No ambient connection settings or database: each test says what it uses.
const BASE_ENV = {
  CONCORD_SERVER: '',
  CONCORD_API_KEY: '',
  DATABASE_URL: '',
  CONCORD_DATABASE_URL: '',
  XDG_CONFIG_HOME: join(dir, 'xdg'),
  CONCORD_NO_AUTORUN: '1',
};

let serve: ChildProcess;
let url = '';
let operatorKey = '';
let auditorKey = '';

async function startServe(): Promise<void> {
  const started = await startCli(
    CONCORD_BIN,
    ['serve', '--port', '0', '--data-dir', dataDir, '--key-dir', keyDir, '--log-level', 'warn'],
    /listening on (http:\/\/\S+)/,
    { env: BASE_ENV },
  );
  serve = started.child;
  url = started.match[1];
}

/** Runs `concord ...` with the operator key in the environment (unless `env` says otherwise). */
function concord(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCliAsync(CONCORD_BIN, args, {
    env: { ...BASE_ENV, CONCORD_SERVER: url, CONCORD_API_KEY: operatorKey, ...env },
  });
}

/** A loopback port nothing listens on (bound, then closed). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function json<T = Record<string, unknown>>(r: CliResult): T {
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  for (const [role, set] of [
    ['operator', (k: string) => (operatorKey = k)],
    ['auditor', (k: string) => (auditorKey = k)],
  ] as const) {
    const r = await runCliAsync(
      CONCORD_BIN,
      ['keys', 'create', '--role', role, '--data-dir', dataDir, '--json', ...(role === 'operator' ? ['--init'] : [])],
      { env: BASE_ENV },
    );
    if (r.status !== 0) throw new Error(r.stderr);
    set((JSON.parse(r.stdout) as { key: string }).key);
  }
  await startServe();
}, 120_000);

afterAll(async () => {
  if (serve) await stopChild(serve);
  rmSync(dir, { recursive: true, force: true });
});

// Each CLI run is a fresh Node process (1-2 s idle, much more on a loaded 2-core machine): generous timeouts.
describe('concord federation / token / budgets / model', { timeout: 240_000 }, () => {
  let id = '';

  it('creates a federation from a YAML spec file and lists it', async () => {
    const created = json<{ id: string; status: string; name: string }>(
      await concord(['federation', 'create', '--spec', MNIST_YAML.pathname, '--json']),
    );
    expect(created).toMatchObject({ status: 'active', name: 'mnist-demo' });
    id = created.id;

    const human = await concord(['federation', 'list']);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+NAME/);
    expect(human.stdout).toMatch(new RegExp(`${id}\\s+active\\s+mnist-demo`));
    const listed = json<{ items: { id: string }[]; total: number }>(await concord(['federation', 'list', '--json']));
    expect(listed.items.map((f) => f.id)).toContain(id);

    const draft = await concord(['federation', 'create', '--spec', MNIST_YAML.pathname, '--draft']);
    expect(draft.status, draft.stderr).toBe(0);
    expect(draft.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
    expect(draft.stderr).toMatch(/created federation .* draft/);
  });

  it('refuses a bad spec with the server code and exit 2, and an unreadable file with exit 2', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'version: 1\nname: x\ndataset: { kind: nope }\n');
    const r = await concord(['federation', 'create', '--spec', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^concord: .*E_FEDERATION_SPEC, HTTP 400/);
    const missing = await concord(['federation', 'create', '--spec', join(dir, 'none.yaml')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--spec: cannot read .*ENOENT/);
  });

  it('shows status, pauses, resumes, archives; a refused transition exits 1 with its code', async () => {
    // version 0 is the initial model, made at creation
    const status = json<{ federation: { id: string; status: string }; released: number; latestVersion: number }>(
      await concord(['federation', 'status', id, '--json']),
    );
    expect(status).toMatchObject({ federation: { id, status: 'active' }, released: 0, failed: 0, latestVersion: 0 });
    const human = await concord(['federation', 'status', id]);
    expect(human.stdout).toContain('active: 0/150 rounds released, 0 failed, model v0');

    expect((await concord(['federation', 'pause', id])).stdout).toContain(`${id} paused`);
    const again = await concord(['federation', 'pause', id]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/cannot pause a federation that is paused \(E_CONFLICT, HTTP 409\)/);
    expect(json(await concord(['federation', 'resume', id, '--json']))).toMatchObject({ status: 'active' });

    const unknown = await concord(['federation', 'status', '00000000-0000-4000-8000-000000000000']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/E_NOT_FOUND/);
    const notUuid = await concord(['federation', 'status', 'nope']);
    expect(notUuid.status).toBe(2); // the server's 400: bad input
  });

  it('issues --count tokens (each once), and an auditor may not (exit 1, E_FORBIDDEN)', async () => {
    const human = await concord(['token', 'create', '--federation', id, '--count', '3']);
    expect(human.status, human.stderr).toBe(0);
    const tokens = human.stdout.trim().split('\n');
    expect(tokens).toHaveLength(3);
    expect(new Set(tokens).size).toBe(3);
    expect(human.stderr).toMatch(/issued 3 token\(s\)/);
    const one = json<{ tokens: { token: string; expiresAt: string }[] }>(
      await concord(['token', 'create', '--federation', id, '--json', '--ttl', '5']),
    );
    expect(one.tokens).toHaveLength(1);
    expect(Date.parse(one.tokens[0].expiresAt) - Date.now()).toBeLessThanOrEqual(5 * 60_000);

    const auditor = await concord(['token', 'create', '--federation', id], { CONCORD_API_KEY: auditorKey });
    expect(auditor.status).toBe(1);
    expect(auditor.stderr).toMatch(/E_FORBIDDEN, HTTP 403/);
    expect((await concord(['token', 'create', '--federation', id, '--count', '0'])).status).toBe(2);
  });

  it('prints budgets (no sites yet) for operator and auditor', async () => {
    const budgets = json<{ federationId: string; accountant: string; sites: unknown[] }>(
      await concord(['budgets', id, '--json'], { CONCORD_API_KEY: auditorKey }),
    );
    expect(budgets).toEqual({ federationId: id, accountant: 'rdp', sites: [] });
    const human = await concord(['budgets', id]);
    expect(human.stdout).toMatch(/^SITE\s+STATUS\s+EPSILON\s+CAP\s+REMAINING\s+CHARGES/);
  });

  it('wait: times out with exit 1 and says where the federation stands', async () => {
    const r = await concord(['federation', 'wait', id, '--rounds', '1', '--timeout', '1', '--poll', '0.2']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/timed out: 0 of 1 rounds released, federation active/);
    expect((await concord(['federation', 'wait', id])).status).toBe(2); // --timeout is required
  });

  it('downloads a released model with a certificate that signs it; never the watermark key; wait sees the round', async () => {
    // Put a released round and its model in the database while the server is stopped (PGlite is single-process).
    await stopChild(serve);
    const database = await openDatabase({ dataDir });
    const weights = new Float32Array(833 * 10 + 10).map((_, i) => Math.sin(i) / 9);
    const bytes = new Uint8Array(weights.buffer);
    try {
      const [round] = await database.db
        .insert(rounds)
        .values({ federationId: id, number: 1, state: 'released' })
        .returning();
      await database.db.insert(modelVersions).values({
        federationId: id,
        roundId: round.id,
        version: 1,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        sizeBytes: bytes.byteLength,
        weights: bytes,
        watermarkId: `owner:${id}`,
        metrics: {},
      });
    } finally {
      await database.close();
    }
    await startServe();

    const waited = await concord(['federation', 'wait', id, '--rounds', '1', '--timeout', '30', '--json']);
    expect(json(waited)).toMatchObject({ released: 1, latestVersion: 1 });

    const out = join(dir, 'model');
    const r = json<{
      model: string;
      sha256: string;
      certificate: string;
      certificateCheck: { valid: boolean; modelMatches: boolean };
      watermarkKey: { downloaded: boolean; note: string };
    }>(await concord(['model', 'download', id, '--out', out, '--json']));
    expect(r.model).toBe(join(out, 'mnist-demo-v1.safetensors'));
    const file = readFileSync(r.model);
    expect(readSafetensors(new Uint8Array(file)).weights).toEqual(weights);
    expect(r.sha256).toBe(createHash('sha256').update(file).digest('hex'));
    expect(r.certificateCheck).toMatchObject({ valid: true, modelMatches: true });
    const certificate = JSON.parse(readFileSync(r.certificate, 'utf8'));
    expect(verifyOwnershipCertificate(certificate, { modelBytes: new Uint8Array(file) }).valid).toBe(true);
    expect(r.watermarkKey).toMatchObject({ downloaded: false });
    expect(r.watermarkKey.note).toContain(`watermark-${id}.json`);
    // only the model and its certificate were written: the key never leaves the server
    expect(readdirSync(out).sort()).toEqual(['mnist-demo-v1.certificate.json', 'mnist-demo-v1.safetensors']);
    expect(readdirSync(keyDir)).toContain(`watermark-${id}.json`);

    const human = await concord(['model', 'download', id, '--version', '1', '--out', join(dir, 'model2')]);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/certificate: signature valid, signs this file/);
    expect(human.stderr).toMatch(/watermark key stays on the aggregator/);
    const initial = await concord(['model', 'download', id, '--version', '0', '--out', join(dir, 'model0')]);
    expect(initial.stdout).toMatch(/no certificate: this version carries no watermark/);
    const none = await concord(['model', 'download', id, '--version', '4', '--out', join(dir, 'model3')]);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/E_NOT_FOUND/);
  });
});

describe('connection settings', { timeout: 240_000 }, () => {
  it('takes flags over env over the config file, and says where it looked when none is set', async () => {
    const none = await runCliAsync(CONCORD_BIN, ['federation', 'list'], { env: BASE_ENV });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain(
      `no server: give --server URL, set CONCORD_SERVER, or "server" in ${join(dir, 'xdg')}`,
    );

    mkdirSync(join(dir, 'xdg', 'concord'), { recursive: true });
    const config = join(dir, 'xdg', 'concord', 'cli.json');
    writeFileSync(config, JSON.stringify({ server: url, apiKey: operatorKey }));
    const fromFile = await runCliAsync(CONCORD_BIN, ['federation', 'list', '--json'], { env: BASE_ENV });
    expect(json<{ total: number }>(fromFile).total).toBeGreaterThan(0);

    // env wins over the file, the flag over env: a wrong key in the winning place is refused (401 -> exit 1)
    const envWins = await runCliAsync(CONCORD_BIN, ['federation', 'list'], {
      env: { ...BASE_ENV, CONCORD_API_KEY: 'concord_' + 'x'.repeat(43) },
    });
    expect(envWins.status).toBe(1);
    expect(envWins.stderr).toMatch(/E_UNAUTHENTICATED, HTTP 401/);
    const flagWins = await runCliAsync(CONCORD_BIN, ['federation', 'list', '--api-key', operatorKey], {
      env: { ...BASE_ENV, CONCORD_API_KEY: 'concord_' + 'x'.repeat(43) },
    });
    expect(flagWins.status, flagWins.stderr).toBe(0);

    writeFileSync(config, '{ "server": 3 }');
    const badFile = await runCliAsync(CONCORD_BIN, ['federation', 'list'], { env: BASE_ENV });
    expect(badFile.status).toBe(2);
    expect(badFile.stderr).toContain(`${config}: expected { "server": URL, "apiKey": KEY }`);
    rmSync(config);
  });

  it('reports an unreachable server with exit 2 and a bad URL with exit 2', async () => {
    const closed = await freePort();
    const down = await concord(['federation', 'list'], { CONCORD_SERVER: `http://127.0.0.1:${closed}` });
    expect(down.status).toBe(2);
    expect(down.stderr).toContain(`cannot reach http://127.0.0.1:${closed} (ECONNREFUSED)`);
    const bad = await concord(['federation', 'list', '--server', 'ftp://x']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/expected http:\/\/ or https:\/\//);
  });

  it('--help lists the operator commands', async () => {
    const help = await concord(['--help']);
    for (const name of ['federation', 'token', 'model', 'budgets'])
      expect(help.stdout).toMatch(new RegExp(`\\n  ${name}`));
    const wait = await concord(['federation', 'wait', '--help']);
    expect(wait.stdout).toMatch(/--timeout <seconds>/);
    expect(wait.stdout).toMatch(/--server <url>/);
    expect(wait.stdout).toMatch(/--json/);
  });
});
