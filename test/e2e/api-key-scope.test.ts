/**
 * The role x route matrix of docs/operator.md, tested exhaustively (issue 16, finding 1): every route of the
 * OpenAPI document plus /metrics, every role, unscoped and scoped to federation A, on A's and on B's resources.
 * A scoped key never sees or creates anything outside its federation, and only an unscoped admin manages keys.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyService } from '../../apps/aggregator/src/services/api-key.service.js';
import { EnrollmentService } from '../../apps/aggregator/src/services/enrollment.service.js';
import { startApiTestServer, type ApiTestServer } from '../support/api-server.js';

const MNIST_YAML = readFileSync(new URL('../../examples/mnist.yaml', import.meta.url), 'utf8');

type Role = 'admin' | 'operator' | 'auditor' | 'site';
/**
 * Per route: the roles allowed (admin always is), and what a key scoped to one federation may do: 'own' (routes
 * of its own federation only), 'narrowed' (a route without a federation, whose answer is narrowed to the key's
 * federation), 'none' (unscoped keys only), 'public' (no key needed: the key sent is ignored).
 */
const MATRIX: Record<string, { roles: Role[]; scoped: 'own' | 'narrowed' | 'none' | 'public' }> = {
  'GET /health': { roles: ['operator', 'auditor', 'site'], scoped: 'public' },
  'POST /api/enroll': { roles: ['operator', 'auditor', 'site'], scoped: 'public' },
  'GET /api/federations': { roles: ['operator', 'auditor'], scoped: 'narrowed' },
  'POST /api/federations': { roles: ['operator'], scoped: 'none' },
  'GET /api/federations/{federationId}': { roles: ['operator', 'auditor'], scoped: 'own' },
  'POST /api/federations/{federationId}/pause': { roles: ['operator'], scoped: 'own' },
  'POST /api/federations/{federationId}/resume': { roles: ['operator'], scoped: 'own' },
  'POST /api/federations/{federationId}/archive': { roles: ['operator'], scoped: 'own' },
  'POST /api/federations/{federationId}/tokens': { roles: ['operator'], scoped: 'own' },
  'GET /api/federations/{federationId}/tokens': { roles: ['operator'], scoped: 'own' },
  'DELETE /api/federations/{federationId}/tokens/{tokenId}': { roles: ['operator'], scoped: 'own' },
  'GET /api/federations/{federationId}/sites': { roles: ['operator'], scoped: 'own' },
  'POST /api/federations/{federationId}/sites/{siteId}/revoke': { roles: ['operator'], scoped: 'own' },
  'GET /api/federations/{federationId}/rounds': { roles: ['operator'], scoped: 'own' },
  'GET /api/federations/{federationId}/rounds/{roundId}': { roles: ['operator'], scoped: 'own' },
  'GET /api/federations/{federationId}/models': { roles: ['operator'], scoped: 'own' },
  'GET /api/federations/{federationId}/models/{version}/download': { roles: ['operator'], scoped: 'own' },
  'GET /api/federations/{federationId}/models/{version}/certificate': { roles: ['operator'], scoped: 'own' },
  'GET /api/federations/{federationId}/metrics': { roles: ['operator'], scoped: 'own' },
  'GET /api/federations/{federationId}/budgets': { roles: ['operator', 'auditor', 'site'], scoped: 'own' },
  'GET /api/federations/{federationId}/ledger': { roles: ['operator', 'auditor'], scoped: 'own' },
  'GET /api/federations/{federationId}/ledger/status': { roles: ['operator', 'auditor'], scoped: 'own' },
  'POST /api/keys': { roles: [], scoped: 'none' },
  'GET /api/keys': { roles: [], scoped: 'none' },
  'DELETE /api/keys/{keyId}': { roles: [], scoped: 'none' },
  'GET /api/audit-log': { roles: ['auditor'], scoped: 'narrowed' },
  'GET /metrics': { roles: ['operator', 'auditor'], scoped: 'none' },
};

let api: ApiTestServer;
let federationA = '';
let federationB = '';
/** keys by `${role}:${scope}` with scope 'all' or 'A' (site keys exist only scoped, to a site of A) */
const keys: Record<string, string> = {};

async function call(method: string, path: string, key: string, body?: unknown) {
  const response = await fetch(api.server.url + path, {
    method,
    headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined; // safetensors, JSON lines, Prometheus text
  }
  return { status: response.status, text, json };
}

function bodyFor(route: string): unknown {
  if (route === 'POST /api/federations') return { spec: MNIST_YAML, start: false };
  if (route === 'POST /api/keys') return { role: 'auditor', name: 'matrix' };
  if (route.endsWith('/tokens') && route.startsWith('POST')) return {};
  return route.startsWith('POST') ? {} : undefined;
}

beforeAll(async () => {
  api = await startApiTestServer({
    config: { metricsAuth: 'api-key' },
    env: { CONCORD_RATE_LIMIT_PER_MINUTE: '1000000' },
  });
  const admin = api.server.app.get(ApiKeyService);
  const root = (await admin.create({ role: 'admin', name: 'root' })).key;
  const create = async () =>
    (await call('POST', '/api/federations', root, { spec: MNIST_YAML, start: false })).json!.id as string;
  federationA = await create();
  federationB = await create();
  for (const role of ['admin', 'operator', 'auditor'] as const) {
    keys[`${role}:all`] = (await admin.create({ role, name: `${role} all` })).key;
    keys[`${role}:A`] = (await admin.create({ role, name: `${role} A`, federationId: federationA })).key;
  }
  const { token } = await api.server.app.get(EnrollmentService).issueToken(federationA);
  const enrolled = await fetch(`${api.server.url}/api/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      token,
      ed25519PublicKey: '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=',
      x25519PublicKey: 'hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=',
      cap: { epsilon: 3, delta: 1e-5 },
    }),
  });
  const siteId = ((await enrolled.json()) as { siteId: string }).siteId;
  keys['site:A'] = (await call('POST', '/api/keys', root, { role: 'site', name: 'site A', siteId })).json!
    .key as string;
}, 120_000);

afterAll(async () => {
  await api?.close();
});

describe('role x route matrix (docs/operator.md)', () => {
  it('lists every route of the OpenAPI document, and no other', async () => {
    const doc = (await (await fetch(`${api.server.url}/api/docs/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(new Set([...routes, 'GET /metrics'])).toEqual(new Set(Object.keys(MATRIX)));
  });

  const principals = ['admin:all', 'admin:A', 'operator:all', 'operator:A', 'auditor:all', 'auditor:A', 'site:A'];
  for (const [route, rule] of Object.entries(MATRIX)) {
    it(`${route}: every role, scoped and unscoped, on its own federation and another`, async () => {
      const [method, template] = route.split(' ');
      const targets = template.includes('{federationId}') ? [federationA, federationB] : [undefined];
      const got: string[] = [];
      const want: string[] = [];
      for (const principal of principals) {
        const [role, scope] = principal.split(':') as [Role, 'all' | 'A'];
        for (const target of targets) {
          const path = template
            .replace('{federationId}', target ?? '')
            .replace('{version}', '0')
            .replace(/\{\w+\}/g, () => randomUUID());
          const roleOk = role === 'admin' || rule.roles.includes(role);
          const scopeOk =
            scope === 'all' || rule.scoped === 'public'
              ? true
              : rule.scoped === 'own'
                ? target === federationA
                : rule.scoped === 'narrowed';
          const allowed = roleOk && scopeOk && !(rule.roles.length === 0 && scope !== 'all');
          const r = await call(method, path, keys[principal], bodyFor(route));
          expect(r.status, `${principal} ${method} ${path}: ${r.text.slice(0, 200)}`).not.toBe(401);
          expect(r.status, `${principal} ${method} ${path}: ${r.text.slice(0, 200)}`).toBeLessThan(500);
          const on = target === undefined ? '' : target === federationA ? ' on A' : ' on B';
          got.push(`${principal}${on}: ${r.status === 403 ? 'forbidden' : 'allowed'}`);
          want.push(`${principal}${on}: ${allowed ? 'allowed' : 'forbidden'}`);
          if (r.status === 403) expect(r.json?.code).toBe('E_FORBIDDEN');
        }
      }
      expect(got).toEqual(want);
    });
  }
});

describe('a scoped key sees nothing outside its federation', () => {
  it('lists only its federation, and only its audit entries', async () => {
    for (const principal of ['admin:A', 'operator:A', 'auditor:A']) {
      const list = await call('GET', '/api/federations', keys[principal]);
      expect((list.json!.items as { id: string }[]).map((f) => f.id)).toEqual([federationA]);
      expect(list.json!.total).toBe(1);
    }
    for (const principal of ['admin:A', 'auditor:A']) {
      const audit = await call('GET', '/api/audit-log', keys[principal]);
      const ids = new Set((audit.json!.items as { federationId: string | null }[]).map((e) => e.federationId));
      expect([...ids]).toEqual([federationA]);
      expect((await call('GET', `/api/audit-log?federationId=${federationB}`, keys[principal])).status).toBe(403);
    }
    const all = await call('GET', '/api/federations', keys['auditor:all']);
    expect((all.json!.items as { id: string }[]).map((f) => f.id)).toEqual(
      expect.arrayContaining([federationA, federationB]),
    );
  });

  it('a scoped admin cannot create an unscoped key (the escalation of finding 1)', async () => {
    const r = await call('POST', '/api/keys', keys['admin:A'], { role: 'admin', name: 'escalate' });
    expect([r.status, r.json?.code]).toEqual([403, 'E_FORBIDDEN']);
    expect((await call('GET', '/api/keys', keys['admin:A'])).status).toBe(403);
    expect((await call('GET', `/api/federations/${federationB}`, keys['admin:A'])).status).toBe(403);
  });
});
