/**
 * The dashboard API end to end over HTTP: roles (401/403), federations from YAML, tokens, sites with budgets,
 * ledger export and status, budgets recomputed from the ledger, the audit log, and 1,000 random bodies that must
 * all get a coded 4xx (never a 500).
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { readSafetensors, verifyOwnershipCertificate } from '@concord/watermark';
import { modelVersions } from '../../apps/aggregator/src/db/schema/model-versions.js';
import { rounds } from '../../apps/aggregator/src/db/schema/rounds.js';
import { KeyRepository } from '../../apps/aggregator/src/repositories/key.repository.js';
import { certificateSalt } from '../../apps/aggregator/src/services/models.service.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLedgerExport } from '../../apps/aggregator/src/ledger/export.js';
import { LedgerRepository } from '../../apps/aggregator/src/repositories/ledger.repository.js';
import { createLogger } from '../../apps/aggregator/src/repositories/logger.repository.js';
import type { RunningServer } from '../../apps/aggregator/src/server.js';
import { auditLedger } from '../../apps/aggregator/src/ledger/audit.js';
import { createFixture, nextCharge } from '../medium/ledger-fixtures.js';
import { startApiTestServer, type ApiTestServer } from '../support/api-server.js';
import type { TestDatabase } from '../support/databases.js';

const MNIST_YAML = readFileSync(new URL('../../examples/mnist.yaml', import.meta.url), 'utf8');

let api: ApiTestServer;
let database: TestDatabase;
let server: RunningServer;
const keys: Record<'admin' | 'operator' | 'auditor' | 'site', string> = {
  admin: '',
  operator: '',
  auditor: '',
  site: '',
};

async function call(method: string, path: string, o: { key?: string; body?: unknown; raw?: string } = {}) {
  const headers: Record<string, string> = {};
  if (o.key) headers['x-api-key'] = o.key;
  if (o.body !== undefined || o.raw !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(server.url + path, {
    method,
    headers,
    body: o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body)),
  });
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text, headers: response.headers };
}

beforeAll(async () => {
  api = await startApiTestServer({
    roles: ['admin', 'operator', 'auditor'],
    env: { CONCORD_RATE_LIMIT_PER_MINUTE: '100000' },
  });
  ({ server, database } = api);
  Object.assign(keys, api.keys);
}, 60_000);

afterAll(async () => {
  await api?.close();
});

describe('authentication and roles', () => {
  it('answers 401 with a code without a key or with an unknown key', async () => {
    const none = await call('GET', '/api/federations');
    expect(none.status).toBe(401);
    expect(none.json.code).toBe('E_UNAUTHENTICATED');
    const unknown = await call('GET', '/api/federations', { key: 'concord_' + 'x'.repeat(43) });
    expect(unknown.status).toBe(401);
  });

  it('answers 403 for a role that may not act', async () => {
    expect((await call('POST', '/api/keys', { key: keys.operator, body: { role: 'admin', name: 'x' } })).status).toBe(
      403,
    );
    const auditorCreates = await call('POST', '/api/federations', { key: keys.auditor, body: { spec: MNIST_YAML } });
    expect(auditorCreates.status).toBe(403);
    expect(auditorCreates.json.code).toBe('E_FORBIDDEN');
    expect((await call('GET', '/api/federations', { key: keys.auditor })).status).toBe(200);
  });

  it('accepts Authorization: Bearer and refuses a revoked key', async () => {
    const created = await call('POST', '/api/keys', { key: keys.admin, body: { role: 'operator', name: 'temp' } });
    expect(created.status).toBe(201);
    const bearer = await fetch(`${server.url}/api/federations`, {
      headers: { authorization: `Bearer ${created.json.key}` },
    });
    expect(bearer.status).toBe(200);
    const listed = await call('GET', '/api/keys?role=operator', { key: keys.admin });
    expect(JSON.stringify(listed.json)).not.toContain(created.json.key); // the secret is shown once only
    expect((await call('DELETE', `/api/keys/${created.json.apiKey.id}`, { key: keys.admin })).status).toBe(200);
    expect((await call('GET', '/api/federations', { key: created.json.key })).status).toBe(401);
  });
});

describe('federations, tokens and sites', () => {
  let federationId: string;

  it('creates a federation from YAML and refuses an invalid spec with the field path', async () => {
    const created = await call('POST', '/api/federations', {
      key: keys.operator,
      body: { spec: MNIST_YAML, start: false },
    });
    expect(created.status).toBe(201);
    federationId = created.json.id;
    expect(created.json).toMatchObject({ name: 'mnist-demo', status: 'draft' });

    const bad = await call('POST', '/api/federations', {
      key: keys.operator,
      body: { spec: { version: 1, dataset: { kind: 'mnist' }, privacy: { mode: 'local', epsilon: -1 } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('E_FEDERATION_SPEC');
    expect(bad.json.issues.map((i: { path: string }) => i.path)).toContain('spec.privacy.epsilon');
  });

  it('pauses, resumes, archives with state checks', async () => {
    const paused = await call('POST', `/api/federations/${federationId}/pause`, { key: keys.operator });
    expect(paused.status).toBe(409); // a draft is not running
    const archived = await call('POST', `/api/federations/${federationId}/archive`, { key: keys.operator });
    expect(archived.status).toBe(200);
    expect(archived.json.status).toBe('archived');
    expect((await call('POST', `/api/federations/${federationId}/resume`, { key: keys.operator })).status).toBe(409);
  });

  it('issues a token once, lists it without the secret, revokes it', async () => {
    const created = await call('POST', '/api/federations', {
      key: keys.operator,
      body: { spec: MNIST_YAML, start: false },
    });
    const id = created.json.id;
    const issued = await call('POST', `/api/federations/${id}/tokens`, { key: keys.operator, body: {} });
    expect(issued.status).toBe(201);
    expect(typeof issued.json.token).toBe('string');
    const listed = await call('GET', `/api/federations/${id}/tokens?state=active`, { key: keys.operator });
    expect(listed.json.total).toBe(1);
    expect(JSON.stringify(listed.json)).not.toContain(issued.json.token);
    const tokenId = listed.json.items[0].id;
    expect((await call('DELETE', `/api/federations/${id}/tokens/${tokenId}`, { key: keys.operator })).status).toBe(200);
    const enroll = await call('POST', '/api/enroll', {
      body: {
        token: issued.json.token,
        // real keys: keys are checked as points before the token (issue 16)
        ed25519PublicKey: '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=',
        x25519PublicKey: 'hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=',
        cap: { epsilon: 3, delta: 1e-5 },
      },
    });
    expect(enroll.status).toBe(401); // revoked
    const audit = await call('GET', `/api/audit-log?federationId=${id}`, { key: keys.auditor });
    expect(audit.json.items.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['federation.create', 'token.issue', 'token.revoke']),
    );
    expect(JSON.stringify(audit.json)).not.toContain(issued.json.token);
  });

  it('paginates lists', async () => {
    const first = await call('GET', '/api/federations?limit=1&offset=0', { key: keys.operator });
    const second = await call('GET', '/api/federations?limit=1&offset=1', { key: keys.operator });
    expect(first.json.total).toBeGreaterThanOrEqual(2);
    expect(first.json.items).toHaveLength(1);
    expect(second.json.items[0].id).not.toBe(first.json.items[0].id);
    expect((await call('GET', '/api/federations?limit=0', { key: keys.operator })).json.code).toBe('E_BAD_REQUEST');
  });
});

describe('ledger, budgets and export', () => {
  it('recomputes budgets from the ledger and exports what `concord audit --ledger` checks', async () => {
    const fixture = await createFixture(database.db, 2, 3, 'api');
    const ledger = new LedgerRepository(database.db);
    for (const roundId of fixture.roundIds) {
      for (const site of fixture.sites) await ledger.append(database.db, nextCharge(fixture, site, roundId));
    }
    const budgets = await call('GET', `/api/federations/${fixture.federationId}/budgets`, { key: keys.auditor });
    expect(budgets.status).toBe(200);
    const exported = await call('GET', `/api/federations/${fixture.federationId}/ledger`, { key: keys.auditor });
    expect(exported.headers.get('content-type')).toContain('application/x-ndjson');
    const parsed = parseLedgerExport(exported.text);
    expect(parsed.entries).toHaveLength(6);
    const offline = auditLedger({ entries: parsed.entries, publicKeys: parsed.publicKeys });
    expect(offline.ok).toBe(true);
    for (const site of budgets.json.sites) {
      const audited = offline.sites.find((s) => s.site === site.siteId)!;
      expect(site.epsilonSpent).toBeCloseTo(audited.epsilon, 12);
      expect(site.epsilonSpent).toBeGreaterThan(0);
      expect(site.capEpsilon).toBe(8);
      expect(site.charges).toBe(3);
    }
    const status = await call('GET', `/api/federations/${fixture.federationId}/ledger/status`, { key: keys.auditor });
    expect(status.json).toMatchObject({ ok: true, entries: 6, head: parsed.head });
    // auditors read the ledger, not the sites
    expect((await call('GET', `/api/federations/${fixture.federationId}/sites`, { key: keys.auditor })).status).toBe(
      403,
    );
    const sites = await call('GET', `/api/federations/${fixture.federationId}/sites`, { key: keys.operator });
    expect(sites.json.items[0].budget.epsilonSpent).toBeGreaterThan(0);

    // a site key sees its own budget only, and only in its federation
    const siteKey = await call('POST', '/api/keys', {
      key: keys.admin,
      body: { role: 'site', name: 'site 0', siteId: fixture.sites[0].id },
    });
    expect(siteKey.status).toBe(201);
    expect(siteKey.json.apiKey.federationId).toBe(fixture.federationId);
    const own = await call('GET', `/api/federations/${fixture.federationId}/budgets`, { key: siteKey.json.key });
    expect(own.json.sites.map((s: { siteId: string }) => s.siteId)).toEqual([fixture.sites[0].id]);
    expect(
      (await call('GET', `/api/federations/${fixture.federationId}/ledger`, { key: siteKey.json.key })).status,
    ).toBe(403);

    const metrics = await call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain(`concord_ledger_verified{federation="${fixture.federationId}"} 1`);
    expect(metrics.text).toContain(`concord_ledger_head_seq{federation="${fixture.federationId}"} 6`);
    const site = budgets.json.sites[0];
    const line = metrics.text
      .split('\n')
      .find((l) => l.startsWith(`concord_epsilon_spent{federation="${fixture.federationId}",site="${site.siteId}"}`));
    expect(Number(line?.split(' ').at(-1))).toBeCloseTo(site.epsilonSpent, 9);
    expect(metrics.text).toMatch(/concord_process_cpu_seconds_total/);
    expect(metrics.text).toMatch(/# TYPE concord_round_duration_seconds histogram/);
    expect(metrics.text).toContain(`concord_rounds{federation="${fixture.federationId}",outcome="open"} 3`);
  });
});

describe('model versions', () => {
  it('downloads a version as safetensors with a certificate that opens with the owner key', async () => {
    const created = await call('POST', '/api/federations', {
      key: keys.operator,
      body: { spec: MNIST_YAML, start: false },
    });
    const id = created.json.id as string;
    const weights = new Float32Array(833 * 10 + 10).map((_, i) => Math.cos(i) / 7);
    const bytes = new Uint8Array(weights.buffer);
    await database.db.insert(modelVersions).values({
      federationId: id,
      version: 0,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      sizeBytes: bytes.byteLength,
      weights: bytes,
      watermarkId: `owner:${id}`,
      metrics: { accuracy: 0.5 },
    });
    const listed = await call('GET', `/api/federations/${id}/models`, { key: keys.operator });
    expect(listed.json.items).toEqual([expect.objectContaining({ version: 0, metrics: { accuracy: 0.5 } })]);
    expect(listed.json.items[0].weights).toBeUndefined();

    const file = await fetch(`${server.url}/api/federations/${id}/models/0/download`, {
      headers: { 'x-api-key': keys.operator },
    });
    expect(file.headers.get('content-disposition')).toContain('mnist-demo-v0.safetensors');
    const fileBytes = new Uint8Array(await file.arrayBuffer());
    // the list's fileSha256 is the hash of the very file the download serves (what sha256sum gives)
    expect(listed.json.items[0].fileSha256).toBe(createHash('sha256').update(fileBytes).digest('hex'));
    expect(listed.json.items[0].fileSha256).not.toBe(listed.json.items[0].sha256);
    const model = readSafetensors(fileBytes);
    expect(model.weights).toEqual(weights);

    const certificate = await call('GET', `/api/federations/${id}/models/0/certificate`, { key: keys.operator });
    const key = server.app.get(KeyRepository).watermarkKey(id, 833);
    const check = verifyOwnershipCertificate(certificate.json, {
      trustedPublicKeys: [server.app.get(KeyRepository).publicKey],
      modelBytes: fileBytes,
      key,
      salt: certificateSalt(key),
    });
    expect(check).toMatchObject({ valid: true, signatureValid: true, modelMatches: true, keyMatches: true });
    expect((await call('GET', `/api/federations/${id}/models/7/download`, { key: keys.operator })).json.code).toBe(
      'E_NOT_FOUND',
    );
  });
});

describe('private evaluation in the API and /metrics', () => {
  it('lists rounds with their kind, versions with noisy metrics and their std, and gauges of the newest evaluation', async () => {
    const created = await call('POST', '/api/federations', {
      key: keys.operator,
      body: { spec: MNIST_YAML, start: false },
    });
    const id = created.json.id as string;
    const bytes = new Uint8Array(new Float32Array(833 * 10 + 10).buffer);
    const evaluated = { accuracy: 0.912, accuracyStd: 0.008, loss: 0.31, lossStd: 0.02, evaluatedSites: 3 };
    const version = (v: number, metrics: Record<string, number>) => ({
      federationId: id,
      version: v,
      sha256: 'cd'.repeat(32),
      sizeBytes: bytes.byteLength,
      weights: bytes,
      metrics,
    });
    await database.db.insert(modelVersions).values([
      version(1, { heldOutAccuracy: 0.8 }),
      version(2, { heldOutAccuracy: 0.85, ...evaluated }),
      version(3, { heldOutAccuracy: 0.9 }), // released after the last evaluation: not the gauges' version
    ]);
    await database.db.insert(rounds).values([
      { federationId: id, number: 1, state: 'released' },
      { federationId: id, number: 2, state: 'released', kind: 'evaluation' },
    ]);

    const listedRounds = await call('GET', `/api/federations/${id}/rounds`, { key: keys.operator });
    expect(listedRounds.json.items.map((r: { number: number; kind: string }) => [r.number, r.kind])).toEqual([
      [2, 'evaluation'],
      [1, 'training'],
    ]);
    const onlyEvaluations = await call('GET', `/api/federations/${id}/rounds?kind=evaluation`, { key: keys.operator });
    expect(onlyEvaluations.json.items.map((r: { number: number }) => r.number)).toEqual([2]);
    const models = await call('GET', `/api/federations/${id}/models`, { key: keys.operator });
    const v2 = models.json.items.find((m: { version: number }) => m.version === 2);
    expect(v2.metrics).toEqual({ heldOutAccuracy: 0.85, ...evaluated });

    const metrics = (await call('GET', '/metrics')).text;
    const gauge = (name: string) =>
      metrics
        .split('\n')
        .find((l) => l.startsWith(`${name}{federation="${id}"} `))
        ?.split(' ')
        .at(-1);
    expect(gauge('concord_evaluation_model_version')).toBe('2');
    expect(gauge('concord_evaluation_accuracy')).toBe('0.912');
    expect(gauge('concord_evaluation_accuracy_std')).toBe('0.008');
    expect(gauge('concord_evaluation_loss')).toBe('0.31');
    expect(gauge('concord_evaluation_loss_std')).toBe('0.02');
    expect(gauge('concord_evaluation_roc_auc')).toBeUndefined(); // a 10-class model has no ROC AUC, not a 0
    expect(metrics).toMatch(/# HELP concord_evaluation_accuracy_std /);
  });
});

describe('docs and logs', () => {
  it('serves the OpenAPI document at /api/docs', async () => {
    const doc = await call('GET', '/api/docs/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining(['/api/federations', '/api/federations/{federationId}/budgets', '/api/keys']),
    );
    const listParameters = doc.json.paths['/api/federations'].get.parameters.map((p: { name: string }) => p.name);
    expect(listParameters).toEqual(expect.arrayContaining(['limit', 'offset', 'status']));
    expect(doc.json.paths['/api/federations'].post.requestBody).toBeDefined();
    expect((await call('GET', '/api/docs')).status).toBe(200);
  });

  it('never writes keys, tokens or authorization headers into log lines', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger('info', sink);
    logger.info(
      {
        key: 'concord_SECRET1',
        token: 'SECRET2',
        req: { headers: { authorization: 'Bearer SECRET3', 'x-api-key': 'SECRET4' } },
      },
      'x',
    );
    logger.info({ body: { apiKey: 'SECRET5', signature: 'SECRET6' } }, 'y');
    expect(lines).toHaveLength(2);
    expect(lines.join('')).not.toMatch(/SECRET/);
    expect(JSON.parse(lines[0]).msg).toBe('x');
  });
});

describe('bad input', () => {
  it('answers 1,000 random bodies and queries with a coded 4xx, never a 500', async () => {
    const federation = await call('POST', '/api/federations', {
      key: keys.operator,
      body: { spec: MNIST_YAML, start: false },
    });
    const id = federation.json.id;
    const targets: Array<[string, (v: string) => string]> = [
      ['POST', () => '/api/federations'],
      ['POST', () => `/api/federations/${id}/tokens`],
      ['POST', () => '/api/keys'],
      ['GET', (q) => `/api/federations?${q}`],
      ['GET', (q) => `/api/federations/${id}/rounds?${q}`],
      ['GET', (q) => `/api/federations/${encodeURIComponent(q)}/budgets`],
      ['GET', (q) => `/api/federations/${id}/models/${encodeURIComponent(q)}/download`],
    ];
    const bodies = fc.sample(
      fc.oneof(
        fc.jsonValue(),
        fc.record({ spec: fc.oneof(fc.string(), fc.jsonValue()), start: fc.anything() }),
        fc.record({ role: fc.string(), name: fc.anything(), federationId: fc.string() }),
        fc.string().map((s) => ({ raw: s })),
      ),
      { numRuns: 1000, seed: 9 },
    );
    const statuses = new Map<number, number>();
    for (let i = 0; i < bodies.length; i++) {
      const [method, path] = targets[i % targets.length];
      const value = bodies[i];
      const text = safeText(value);
      const query = new URLSearchParams({ limit: text.slice(0, 20), offset: text.slice(0, 50) });
      const raw = (value as { raw?: string } | null)?.raw;
      const r =
        method === 'GET'
          ? await call('GET', path(i % 2 ? query.toString() : text.slice(0, 80)), { key: keys.admin })
          : raw !== undefined
            ? await call('POST', path(''), { key: keys.admin, raw })
            : await call('POST', path(''), { key: keys.admin, body: value });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status >= 500 || r.status < 200)
        throw new Error(`${method} ${path('')}: ${r.status} ${r.text.slice(0, 300)}`);
      if (r.status >= 400) expect(typeof r.json?.code, `${r.status} ${r.text.slice(0, 200)}`).toBe('string');
    }
    expect([...statuses.keys()].some((s) => s === 400)).toBe(true);
  }, 120_000);
});

function safeText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'undefined';
  } catch {
    return 'unserializable';
  }
}
