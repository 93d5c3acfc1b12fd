/**
 * Every route of the running aggregator (read from its own OpenAPI document, plus /health, /metrics, /api/enroll)
 * with NUL, huge, deeply nested and unusual-unicode inputs in path parameters, query strings and bodies, with the
 * database up, on both drivers: no answer is a 5xx, and no answer names SQL (issue 16, finding 4).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverConfigSchema } from '../../apps/aggregator/src/config/config.schema.js';
import { startServer, type RunningServer } from '../../apps/aggregator/src/server.js';
import { ApiKeyService } from '../../apps/aggregator/src/services/api-key.service.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';

const MNIST_YAML = readFileSync(new URL('../../examples/mnist.yaml', import.meta.url), 'utf8');
const NUL = 'a\u0000b';
const HUGE = 'x'.repeat(20_000);
const UNICODE = ['\u202eevil\u202c', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ 中文', '\ufeff\u200b', 'e\u0301'];
const VALUES = [NUL, HUGE, ...UNICODE, '-1', '1e309', 'null', "'; drop table sites; --", '../../etc/passwd'];
const SQL_WORDS = /\b(select|insert into|update \w+ set|delete from|failed query)\b|"?sql"?:/i;

function deepJson(levels: number): string {
  return '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
}

/** Bodies sent to every route that takes one: NUL in each likely field, huge, deep, unicode, wrong types. */
function bodies(): string[] {
  const out: unknown[] = [
    { name: NUL },
    { spec: `name: ${NUL}\nversion: 1\ndataset:\n  kind: mnist\n` },
    { spec: MNIST_YAML.replace('mnist-demo', NUL) },
    { spec: { name: NUL, version: 1, dataset: { kind: 'mnist' } } },
    { role: 'operator', name: NUL },
    { role: NUL, name: 'x' },
    { role: 'admin', name: 'x', federationId: NUL },
    { role: 'site', name: 'x', siteId: NUL },
    // well-formed ids of nothing: the foreign keys refuse them (never with the SQL in the answer)
    { role: 'operator', name: 'x', federationId: '00000000-0000-4000-8000-000000000000' },
    { role: 'site', name: 'x', siteId: '00000000-0000-4000-8000-000000000000' },
    { ttlHours: NUL },
    { token: NUL, ed25519PublicKey: NUL, x25519PublicKey: NUL, cap: { epsilon: 1, delta: 1e-5 }, name: NUL },
    { [NUL]: 1 },
    { name: HUGE },
    { spec: HUGE },
    { name: UNICODE[0], spec: UNICODE[1] },
    [1, 2, 3],
    'just a string',
    { name: { $gt: '' } },
    { name: 1e309 },
  ];
  return [...out.map((b) => JSON.stringify(b)), deepJson(5_000), deepJson(100_000), '{"a":', '\u0000'];
}

for (const target of databaseTargets()) {
  describe.skipIf(target.skip)(`API fuzz on ${target.name}: no 5xx, no SQL in answers`, () => {
    let database: TestDatabase;
    let server: RunningServer;
    let keyDir: string;
    let admin = '';
    let federationId = '';
    const failures: string[] = [];

    async function send(method: string, path: string, body?: string): Promise<void> {
      const response = await fetch(server.url + path, {
        method,
        headers: { 'x-api-key': admin, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body,
      }).catch((error: Error) => ({ status: 599, text: async () => error.message }));
      const text = await response.text();
      const what = `${method} ${path.slice(0, 120)} ${body?.slice(0, 80) ?? ''} -> ${response.status} ${text.slice(0, 200)}`;
      if (response.status >= 500) failures.push(what);
      else if (SQL_WORDS.test(text) && !path.startsWith('/api/docs')) failures.push(`names SQL: ${what}`);
    }

    beforeAll(async () => {
      keyDir = mkdtempSync(join(tmpdir(), 'concord-fuzz-'));
      database = await target.open();
      server = await startServer({
        config: serverConfigSchema.parse({
          port: 0,
          keyDir,
          dataDir: 'memory',
          logLevel: 'silent',
          noAutorun: true,
          rateLimitPerMinute: 1_000_000,
          enrollPerMinutePerIp: 1_000_000,
        }),
        database,
      });
      admin = (await server.app.get(ApiKeyService).create({ role: 'admin', name: 'fuzz' })).key;
      const created = await fetch(`${server.url}/api/federations`, {
        method: 'POST',
        headers: { 'x-api-key': admin, 'content-type': 'application/json' },
        body: JSON.stringify({ spec: MNIST_YAML, start: false }),
      });
      federationId = ((await created.json()) as { id: string }).id;
    }, 120_000);

    afterAll(async () => {
      await server?.close();
      await database?.dispose();
      rmSync(keyDir, { recursive: true, force: true });
    });

    it('every route, every kind of bad input', { timeout: 300_000 }, async () => {
      const doc = (await (await fetch(`${server.url}/api/docs/openapi.json`)).json()) as {
        paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
      };
      const routes: { method: string; path: string; query: string[] }[] = [
        { method: 'get', path: '/health', query: [] },
        { method: 'get', path: '/metrics', query: [] },
        { method: 'post', path: '/api/enroll', query: [] },
      ];
      for (const [path, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
          routes.push({ method, path, query: [...query, 'name', 'action', 'status', 'limit', 'cursor'] });
        }
      }
      expect(routes.length).toBeGreaterThan(25);
      const valid: Record<string, string> = { federationId, version: '0' };
      for (const route of routes) {
        const method = route.method.toUpperCase();
        const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        const fill = (value: (name: string) => string) =>
          route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(value(name)));
        // bad path parameters, one at a time (the others valid where we have one)
        for (const p of params) {
          for (const v of [...VALUES, '%00', '\ud800'.normalize()]) {
            let path: string;
            try {
              path = fill((name) => (name === p ? v : (valid[name] ?? '00000000-0000-4000-8000-000000000000')));
            } catch {
              continue; // a lone surrogate cannot be URI-encoded: the raw form follows
            }
            await send(method, path);
          }
          await send(method, fill((name) => (name === p ? 'x' : (valid[name] ?? 'x'))).replace('/x', '/%ED%A0%80'));
        }
        const base = fill((name) => valid[name] ?? '00000000-0000-4000-8000-000000000000');
        // bad query values, each declared parameter and some common ones
        for (const q of route.query) {
          for (const v of VALUES) await send(method, `${base}?${q}=${encodeURIComponent(v)}`);
          await send(method, `${base}?${q}=%00`);
          await send(method, `${base}?${q}[a][b][c]=1&${q}=2`);
          await send(method, `${base}?${q}=%ED%A0%80`);
        }
        if (method !== 'GET') for (const body of bodies()) await send(method, base, body);
      }
      expect(failures, failures.slice(0, 20).join('\n')).toEqual([]);
    });
  });
}
