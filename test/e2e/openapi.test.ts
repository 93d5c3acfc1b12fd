/**
 * The OpenAPI document served at /api/docs/openapi.json: valid OpenAPI 3.0 by a standard validator
 * (@apidevtools/swagger-parser), no 3.1-only keyword, a summary and a typed success answer on every route, and a
 * client generated from it with openapi-typescript that type-checks against real answers of the server. Also: the
 * YAML spec as a request body (text/yaml, application/yaml).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_DOCS } from '../../apps/aggregator/src/dtos/openapi-routes.js';
import { startApiTestServer, type ApiTestServer } from '../support/api-server.js';

const MNIST_YAML = readFileSync(new URL('../../examples/mnist.yaml', import.meta.url), 'utf8');
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

let api: ApiTestServer;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the document is walked generically
type Json = any;
let doc: Json;
const dir = mkdtempSync(join(tmpdir(), 'concord-openapi-'));

beforeAll(async () => {
  api = await startApiTestServer({ roles: ['operator'] });
  doc = await (await fetch(`${api.server.url}/api/docs/openapi.json`)).json();
}, 60_000);

afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

// First, before the slow type-check leaves the pooled keep-alive socket to time out on the server's side.
describe('YAML request bodies', () => {
  for (const type of ['text/yaml', 'application/yaml']) {
    it(`POST /api/federations takes the spec as ${type}`, async () => {
      const r = await fetch(`${api.server.url}/api/federations`, {
        method: 'POST',
        headers: { 'x-api-key': api.keys.operator!, 'content-type': type },
        body: MNIST_YAML,
      });
      expect(r.status).toBe(201);
      expect(await r.json()).toMatchObject({ name: 'mnist-demo', status: 'active' });
    });
  }

  it('refuses malformed YAML with a coded 400 and an oversized body with 413', async () => {
    const bad = await fetch(`${api.server.url}/api/federations`, {
      method: 'POST',
      headers: { 'x-api-key': api.keys.operator!, 'content-type': 'text/yaml' },
      body: 'version: [1',
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).code).toBe('E_FEDERATION_SPEC');
    const big = await fetch(`${api.server.url}/api/federations`, {
      method: 'POST',
      headers: { 'x-api-key': api.keys.operator!, 'content-type': 'text/yaml' },
      body: `name: x\n# ${'y'.repeat(1_100_000)}\n`,
    });
    expect(big.status).toBe(413);
    expect((await big.json()).code).toBe('E_TOO_LARGE');
  });
});

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.0 for swagger-parser and uses no 3.1-only keyword', async () => {
    expect(doc.openapi).toMatch(/^3\.0\./);
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
    const text = JSON.stringify(doc);
    for (const keyword of ['propertyNames', 'prefixItems', '$defs', 'unevaluatedProperties', 'const', 'examples']) {
      expect(text, keyword).not.toContain(`"${keyword}":`);
    }
    expect(text).not.toMatch(/"type":\[/); // 3.1 type arrays; 3.0 says nullable
  });

  it('the validator refuses a 3.1 keyword in a 3.0 document (it would catch the old bug)', async () => {
    const broken = structuredClone(doc);
    broken.paths['/api/federations'].post.requestBody.content['application/json'].schema.properties.spec = {
      type: 'object',
      propertyNames: { type: 'string' },
    };
    await expect(SwaggerParser.validate(broken)).rejects.toThrow(/propertyNames|additional properties/);
  });

  it('gives every route a summary, a typed success answer and the error shape', () => {
    const routes: string[] = [];
    for (const [path, item] of Object.entries<Record<string, Json>>(doc.paths)) {
      for (const method of METHODS.filter((m) => item[m])) {
        const op = item[method];
        routes.push(`${method.toUpperCase()} ${path}`);
        expect(op.summary, `${method} ${path}`).toMatch(/\w{3}/);
        const success = Object.entries<Json>(op.responses).find(([status]) => status.startsWith('2'));
        expect(success, `${method} ${path}`).toBeDefined();
        const [type, media] = Object.entries<Json>(success![1].content)[0];
        expect(type).toMatch(/json|octet-stream|ndjson/);
        expect(media.schema.type ?? media.schema.$ref, `${method} ${path}`).toBeDefined();
        expect(op.responses.default.content['application/json'].schema.$ref).toBe('#/components/schemas/Error');
      }
    }
    expect(routes.sort()).toEqual(Object.keys(ROUTE_DOCS).sort());
    expect(routes.length).toBeGreaterThanOrEqual(26);
    const yaml = doc.paths['/api/federations'].post.requestBody.content;
    expect(Object.keys(yaml)).toEqual(expect.arrayContaining(['application/json', 'application/yaml', 'text/yaml']));
  });

  it('generates a client with openapi-typescript that type-checks against real answers', async () => {
    const created = await fetch(`${api.server.url}/api/federations`, {
      method: 'POST',
      headers: { 'x-api-key': api.keys.operator!, 'content-type': 'application/json' },
      body: JSON.stringify({ spec: MNIST_YAML, start: false }),
    });
    const federation = await created.json();
    // after the request: generating blocks the event loop long enough for a pooled socket to go stale
    const types = astToString(await openapiTS(structuredClone(doc)));
    writeFileSync(join(dir, 'api.d.ts'), types);
    // A typed client over fetch, as the CLI could use it: the paths' types decide what compiles.
    writeFileSync(
      join(dir, 'client.ts'),
      `import type { paths } from './api.js';
type Get<P extends keyof paths> = paths[P] extends { get: { responses: { 200: { content: { 'application/json': infer R } } } } } ? R : never;
type Federation = Get<'/api/federations/{federationId}'>;
type Budgets = Get<'/api/federations/{federationId}/budgets'>;
type Create = paths['/api/federations']['post']['requestBody'];
const federation: Federation = ${JSON.stringify(federation)};
export const status: 'draft' | 'active' | 'paused' | 'completed' | 'exhausted' | 'archived' = federation.status;
export const reason: string | undefined = federation.statusReason?.message;
export function remaining(b: Budgets): number[] { return b.sites.map((s) => s.remaining); }
export const body: NonNullable<Create>['content']['application/json'] = { spec: 'version: 1', start: false };
// @ts-expect-error a federation has no such field: the generated types are not 'any'
export const wrong: number = federation.noSuchField;
`,
    );
    const program = ts.createProgram([join(dir, 'client.ts')], {
      strict: true,
      noEmit: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: [],
    });
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
  }, 60_000);
});
