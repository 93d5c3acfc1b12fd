/**
 * `concord serve --tls-cert/--tls-key` as a real process, and real `concord-agent` processes over HTTPS and WSS, with
 * a throwaway CA made by the openssl CLI (loopback only): /health verifies against that CA and fails without it,
 * plain HTTP gets no 200, enrollment trusts the CA through `enroll --ca` or NODE_EXTRA_CA_CERTS (and fails cleanly
 * without it), an agent run without the CA stops at once with E_TLS,
 * and two agents given the CA with `run --ca` train one round over socket.io on wss:// to the end.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_BIN, CONCORD_BIN, runCli, runCliAsync, startCli, stopChild } from '../support/cli.js';

const opensslMissing = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status !== 0;
if (opensslMissing) console.warn('[tls e2e] SKIPPED: the openssl CLI is not on PATH, so no test certificates');

/** The e2e tests' way to keep an ambient DATABASE_URL out of the children: the server must use its PGlite dir. */
const NO_DATABASE_URL = { DATABASE_URL: '', CONCORD_DATABASE_URL: '' };
/** Agents that trust only the system roots (undefined drops the variable from the child's environment). */
const NO_EXTRA_CA = { NODE_EXTRA_CA_CERTS: undefined };

const TABLE_SPEC = {
  name: 'tls',
  dataset: { kind: 'table', featureColumns: ['x1', 'x2'], labelColumn: 'y', classes: ['a', 'b'] },
  model: { inputSize: 2, layers: [{ units: 2, activation: 'none' }], loss: 'softmax-cross-entropy' },
  rounds: 1,
  cohort: { size: 2 },
  privacy: { mode: 'local', epsilon: 3, delta: 1e-5 },
  watermark: { enabled: false }, // a 2x2 model is too small to carry the 256-bit watermark
};

interface Tls {
  ca: string;
  cert: string;
  key: string;
}

/** A CA and a leaf for 127.0.0.1 / localhost signed by it, valid one day; private keys 0600. */
function makeCertificates(dir: string): Tls {
  const openssl = (...args: string[]) => {
    const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Concord test CA');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-set_serial',
    '1',
    '-days',
    '1',
    '-extfile',
    'server.ext',
    '-out',
    'server.pem',
  );
  for (const key of ['ca.key', 'server.key']) chmodSync(join(dir, key), 0o600);
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

interface Reply {
  status: number;
  body: string;
}

/** One request with node:https (no pooled connection), trusting `ca` when given and only the system roots if not. */
function request(
  url: string,
  o: { ca?: string; method?: string; apiKey?: string; body?: unknown } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (o.apiKey) headers['x-api-key'] = o.apiKey;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      { method: o.method ?? 'GET', headers, ca: o.ca, agent: false, timeout: 10_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(o.body === undefined ? undefined : JSON.stringify(o.body));
  });
}

/** The rest of a started child's stdout and its exit code; stopped (SIGTERM, then SIGKILL) after `timeoutMs`. */
function exitOf(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; stdout: string }> {
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, stdout });
    const timer = setTimeout(() => void stopChild(child), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout });
    });
  });
}

describe.skipIf(opensslMissing)('concord serve with --tls-cert/--tls-key, and the agent over https/wss', () => {
  let dir: string;
  let tls: Tls;
  let caPem: string;
  let server: ChildProcess | undefined;
  let serverStderr: () => string = () => '';
  let origin: string;
  let port: string;
  let adminKey: string;
  const agents: ChildProcess[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const reply = await request(origin + path, { ca: caPem, method, apiKey: adminKey, body });
    if (reply.status >= 300) throw new Error(`${method} ${path}: ${reply.status} ${reply.body}`);
    return JSON.parse(reply.body) as Record<string, unknown>;
  };
  const issueToken = async (federationId: string) =>
    (await api('POST', `/api/federations/${federationId}/tokens`, {})).token as string;
  const enroll = (token: string, stateDir: string, env: NodeJS.ProcessEnv, extra: string[] = []) =>
    runCliAsync(
      AGENT_BIN,
      [
        'enroll',
        '--server',
        origin,
        '--token',
        token,
        '--max-epsilon',
        '3',
        '--state-dir',
        stateDir,
        '--json',
        ...extra,
      ],
      { env, timeoutMs: 30_000 },
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-tls-'));
    tls = makeCertificates(dir);
    caPem = readFileSync(tls.ca, 'utf8');
    const dataDir = join(dir, 'data');
    // The first admin key goes straight into the data dir, before the server holds it open.
    const created = runCli(
      CONCORD_BIN,
      ['keys', 'create', '--role', 'admin', '--data-dir', dataDir, '--init', '--json'],
      {
        env: NO_DATABASE_URL,
      },
    );
    if (created.status !== 0) throw new Error(`concord keys create: ${created.stderr}`);
    adminKey = (JSON.parse(created.stdout) as { key: string }).key;
    const started = await startCli(
      CONCORD_BIN,
      [
        'serve',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--data-dir',
        dataDir,
        '--key-dir',
        join(dir, 'keys'),
        '--tls-cert',
        tls.cert,
        '--tls-key',
        tls.key,
        '--log-level',
        'warn',
      ],
      /listening on (https:\/\/127\.0\.0\.1:(\d+))\n/,
      { env: NO_DATABASE_URL },
    );
    server = started.child;
    serverStderr = started.stderr;
    origin = started.match[1];
    port = started.match[2];
  });

  afterAll(async () => {
    await Promise.all(agents.map((child) => stopChild(child)));
    if (server) expect(await stopChild(server), serverStderr()).toBe(0);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers /health over HTTPS to a client that trusts the CA, and to no other', async () => {
    const trusted = await request(`${origin}/health`, { ca: caPem });
    expect(trusted.status).toBe(200);
    expect(JSON.parse(trusted.body)).toMatchObject({ status: 'ok', storage: { driver: 'pglite' } });
    expect(statSync(tls.key).mode & 0o777).toBe(0o600);

    const untrusted = await request(`${origin}/health`).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(untrusted?.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(untrusted?.message).toMatch(/certificate/);

    // The name is checked too: the certificate is for 127.0.0.1 and localhost only.
    const wrongName = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      https
        .get(`${origin}/health`, { ca: caPem, servername: 'example.com', agent: false }, (res) => {
          res.resume();
          resolve(undefined);
        })
        .on('error', resolve);
    });
    expect(wrongName?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('gives plain HTTP on the TLS port no 200', async () => {
    const plain = await request(`http://127.0.0.1:${port}/health`).then(
      (reply) => reply.status,
      (e: NodeJS.ErrnoException) => e.code ?? e.message,
    );
    expect(plain).not.toBe(200);
  });

  it('enrolls over HTTPS only when the CA is trusted, then trains a round over WSS with run --ca', async () => {
    const federation = await api('POST', '/api/federations', { spec: TABLE_SPEC, start: false });
    const federationId = federation.id as string;

    const untrustedDir = join(dir, 'untrusted', 'state');
    const refused = await enroll(await issueToken(federationId), untrustedDir, NO_EXTRA_CA);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`concord-agent: cannot reach ${origin}: `);
    expect(refused.stderr).toMatch(/unable to verify the first certificate; trust its CA with --ca FILE/);
    expect(existsSync(join(untrustedDir, 'site.json'))).toBe(false);

    const stateDirs = [join(dir, 'site-0', 'state'), join(dir, 'site-1', 'state')];
    const siteIds: string[] = [];
    for (const [i, stateDir] of stateDirs.entries()) {
      // site 0 trusts the CA with enroll --ca, site 1 with Node's NODE_EXTRA_CA_CERTS
      const enrolled =
        i === 0
          ? await enroll(await issueToken(federationId), stateDir, NO_EXTRA_CA, ['--ca', tls.ca])
          : await enroll(await issueToken(federationId), stateDir, { NODE_EXTRA_CA_CERTS: tls.ca });
      expect(enrolled.status, enrolled.stderr).toBe(0);
      const summary = JSON.parse(enrolled.stdout) as { siteId: string; federationId: string; server: string };
      expect(summary).toMatchObject({ federationId, server: origin });
      siteIds.push(summary.siteId);
    }

    const rows = (i: number) =>
      Array.from({ length: 40 }, (_, r) => {
        const x1 = ((r * 7 + i * 3) % 20) / 10 - 1;
        const x2 = ((r * 13 + i) % 20) / 10 - 1;
        return `${x1},${x2},${x1 + x2 > 0 ? 'b' : 'a'}`;
      });
    const csvs = stateDirs.map((_, i) => join(dir, `site-${i}`, 'data.csv'));
    csvs.forEach((csv, i) => writeFileSync(csv, ['x1,x2,y', ...rows(i)].join('\n') + '\n'));

    // run without the CA: a certificate that does not verify is fatal at once (E_TLS, exit 2), not retried forever
    const untrustedRun = await runCliAsync(
      AGENT_BIN,
      ['run', '--state-dir', stateDirs[0], '--data', csvs[0], '--label-column', 'y'],
      { env: NO_EXTRA_CA, timeoutMs: 30_000 },
    );
    expect(untrustedRun.status, untrustedRun.stderr).toBe(2);
    expect(untrustedRun.stderr).toMatch(/E_TLS: the aggregator's TLS certificate is not trusted .*--ca FILE/);

    // Started with startCli so that afterAll can stop them whatever happens; ready once authenticated over wss.
    // One agent is given the wss:// form of the URL, the other keeps the https:// origin it enrolled with.
    const started = await Promise.allSettled(
      stateDirs.map((stateDir, i) => {
        const csv = csvs[i];
        const server = i === 0 ? ['--server', `wss://127.0.0.1:${port}`] : [];
        return startCli(
          AGENT_BIN,
          ['run', '--state-dir', stateDir, '--data', csv, '--label-column', 'y', '--ca', tls.ca, '--json', ...server],
          /"type":"authenticated"/,
          { env: NO_EXTRA_CA, timeoutMs: 30_000 },
        );
      }),
    );
    for (const s of started) if (s.status === 'fulfilled') agents.push(s.value.child);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const exits = agents.map((child) => exitOf(child, 40_000));

    // The aggregator's view: both sites authenticated (it stamps lastSeenAt then, without awaiting). Then start.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const sites = (await api('GET', `/api/federations/${federationId}/sites`)).items as {
        id: string;
        lastSeenAt: string | null;
      }[];
      if (siteIds.every((id) => sites.some((s) => s.id === id && s.lastSeenAt !== null))) break;
      if (Date.now() > deadline) throw new Error(`the sites are not seen as connected: ${JSON.stringify(sites)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await api('POST', `/api/federations/${federationId}/resume`);

    for (const [i, exit] of (await Promise.all(exits)).entries()) {
      expect(exit.code, `agent ${i}: ${started[i].status === 'fulfilled' && started[i].value.stderr()}`).toBe(0);
      const summary = JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
      // one training round and the private evaluation of its model (the spec's default evaluates the last version)
      expect(summary).toMatchObject({ type: 'summary', rounds: 1, charges: 2 });
    }
    const rounds = (await api('GET', `/api/federations/${federationId}/rounds`)).items as { state: string }[];
    expect(rounds.map((r) => r.state)).toContain('released');
  });
});
