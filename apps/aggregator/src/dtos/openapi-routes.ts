/**
 * The summary and the success-response schema of every route of the REST API, in one table applied to the document
 * Nest generates (`documentRoutes`). Keeping them here, keyed by "METHOD /path", lets a test check the table and the
 * routes against each other: a route without docs, or docs of a route that does not exist, fails at boot.
 * Schemas are zod, exported as OpenAPI 3.0 JSON Schema (no 3.1-only keywords such as propertyNames).
 */
import type { OpenAPIObject } from '@nestjs/swagger';
import { EnrollResponseSchema } from '@concord/protocol';
import { z } from 'zod';
import {
  uuid,
  timestamp,
  reason,
  Federation,
  paged,
  Budget,
  Round,
  Participant,
  ModelVersion,
  Certificate,
  ApiKeyView,
  Finding,
  ErrorResponse,
} from './responses.dto.js';

type Body = { json: z.ZodType } | { binary: string } | { text: string };
interface RouteDoc {
  summary: string;
  body: Body;
}

const json = (schema: z.ZodType): Body => ({ json: schema });
const Revoked = z.object({ revoked: z.literal(true) });

export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'GET /health': {
    summary: 'Liveness and readiness: storage reachable, migrations applied, federations held up (503 when degraded)',
    body: json(
      z.looseObject({
        status: z.enum(['ok', 'degraded']),
        reasons: z.array(reason.extend({ federationId: uuid.optional() })),
        storage: z.record(z.string(), z.unknown()),
      }),
    ),
  },
  'POST /api/enroll': {
    summary: "Enroll a site with a one-time token; answers the aggregator's key and the privacy terms to pin",
    body: json(EnrollResponseSchema),
  },
  'GET /api/federations': { summary: 'List federations, newest first', body: json(paged(Federation)) },
  'POST /api/federations': {
    summary: 'Create a federation from a spec (JSON {spec, start}, or the YAML spec itself as text/yaml)',
    body: json(Federation),
  },
  'GET /api/federations/{federationId}': {
    summary: 'A federation: spec, status and why it waits',
    body: json(Federation),
  },
  'POST /api/federations/{federationId}/pause': { summary: 'Pause an active federation', body: json(Federation) },
  'POST /api/federations/{federationId}/resume': {
    summary: 'Resume a paused or draft federation',
    body: json(Federation),
  },
  'POST /api/federations/{federationId}/archive': { summary: 'Archive a federation', body: json(Federation) },
  'POST /api/federations/{federationId}/tokens': {
    summary: 'Issue a one-time enrollment token (shown only in this answer)',
    body: json(z.object({ token: z.string(), expiresAt: timestamp })),
  },
  'GET /api/federations/{federationId}/tokens': {
    summary: "List a federation's enrollment tokens (never the tokens themselves)",
    body: json(
      paged(
        z.looseObject({
          id: uuid,
          federationId: uuid,
          expiresAt: timestamp,
          usedAt: timestamp.nullable(),
          usedBySiteId: uuid.nullable(),
          createdAt: timestamp,
        }),
      ),
    ),
  },
  'DELETE /api/federations/{federationId}/tokens/{tokenId}': {
    summary: 'Revoke an unused enrollment token',
    body: json(Revoked),
  },
  'GET /api/federations/{federationId}/sites': {
    summary: 'List sites with their status and budget',
    body: json(
      paged(
        z.looseObject({
          id: uuid,
          name: z.string(),
          status: z.enum(['active', 'suspended', 'revoked']),
          identityPublicKey: z.string(),
          createdAt: timestamp,
          lastSeenAt: timestamp.nullable(),
          budget: Budget,
        }),
      ),
    ),
  },
  'POST /api/federations/{federationId}/sites/{siteId}/revoke': {
    summary: 'Revoke a site (it takes part in no further round)',
    body: json(Revoked),
  },
  'GET /api/federations/{federationId}/rounds': {
    summary: 'List rounds, newest first, with stage timings, cohort size and dropouts',
    body: json(paged(Round.extend({ cohort: z.number().int(), dropouts: z.number().int() }))),
  },
  'GET /api/federations/{federationId}/rounds/{roundId}': {
    summary: 'A round with its participants and their stages',
    body: json(Round.extend({ participants: z.array(Participant), dropouts: z.number().int() })),
  },
  'GET /api/federations/{federationId}/models': {
    summary: 'List released model versions, newest first (metadata, not weights)',
    body: json(paged(ModelVersion)),
  },
  'GET /api/federations/{federationId}/models/{version}/download': {
    summary: 'Download a model version as a safetensors file (the watermarked weights as released)',
    body: { binary: 'application/octet-stream' },
  },
  'GET /api/federations/{federationId}/models/{version}/certificate': {
    summary: "The model version's ownership certificate, signed over the safetensors file's sha256",
    body: json(Certificate),
  },
  'GET /api/federations/{federationId}/metrics': {
    summary: 'Metric series recorded by the rounds',
    body: json(
      paged(
        z.looseObject({
          name: z.string(),
          value: z.number(),
          roundId: uuid.nullable(),
          labels: z.record(z.string(), z.unknown()).nullable(),
          recordedAt: timestamp,
        }),
      ),
    ),
  },
  'GET /api/federations/{federationId}/budgets': {
    summary: "Each site's epsilon spent, cap and remaining, recomputed from the privacy ledger",
    body: json(
      z.looseObject({
        federationId: uuid,
        accountant: z.string(),
        sites: z.array(Budget.extend({ siteId: uuid, name: z.string(), status: z.string() })),
      }),
    ),
  },
  'GET /api/federations/{federationId}/ledger': {
    summary: 'Export the privacy ledger as JSON lines (entries and public keys; `concord audit --ledger` checks it)',
    body: { text: 'application/x-ndjson' },
  },
  'GET /api/federations/{federationId}/ledger/status': {
    summary: "The ledger's audit: hash chain, signatures, caps; its head and any findings",
    body: json(
      z.looseObject({
        federationId: uuid,
        ok: z.boolean(),
        entries: z.number().int(),
        head: z.looseObject({ seq: z.number().int(), hash: z.string() }),
        findings: z.array(Finding),
      }),
    ),
  },
  'POST /api/keys': {
    summary: 'Create an API key (shown only in this answer; only its sha256 is stored)',
    body: json(z.looseObject({ key: z.string(), apiKey: ApiKeyView })),
  },
  'GET /api/keys': { summary: 'List API keys (never the keys themselves)', body: json(paged(ApiKeyView)) },
  'DELETE /api/keys/{keyId}': { summary: 'Revoke an API key', body: json(Revoked) },
  'GET /api/audit-log': {
    summary: 'The log of operator actions, newest first',
    body: json(
      paged(
        z.looseObject({
          id: z.number().int(),
          federationId: uuid.nullable(),
          apiKeyId: uuid.nullable(),
          actorRole: z.string(),
          action: z.string(),
          target: z.string().nullable(),
          details: z.record(z.string(), z.unknown()),
          createdAt: timestamp,
        }),
      ),
    ),
  },
};

/** A zod schema as OpenAPI 3.0 JSON Schema. */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/**
 * Adds every route's summary, its success body schema and the error body to `document`.
 * @throws Error naming the routes without docs, or docs whose route does not exist.
 */
export function documentRoutes(document: OpenAPIObject): void {
  const seen = new Set<string>();
  const missing: string[] = [];
  document.components ??= {};
  document.components.schemas = { ...document.components.schemas, Error: openApiSchema(ErrorResponse) };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const key = `${method.toUpperCase()} ${path}`;
      const doc = ROUTE_DOCS[key];
      if (!doc) {
        missing.push(key);
        continue;
      }
      seen.add(key);
      operation.summary = doc.summary;
      const status = Object.keys(operation.responses ?? {}).find((s) => s.startsWith('2')) ?? '200';
      operation.responses = {
        ...operation.responses,
        [status]: { description: doc.summary, content: contentOf(doc.body) },
        default: {
          description: 'an error: { statusCode, code, message, issues? }',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      };
    }
  }
  const stale = Object.keys(ROUTE_DOCS).filter((k) => !seen.has(k));
  if (missing.length > 0 || stale.length > 0) {
    throw new Error(
      `OpenAPI route docs out of date: undocumented ${missing.join(', ') || '-'}; no such route ${stale.join(', ') || '-'}`,
    );
  }
}

function contentOf(body: Body): Record<string, { schema: Record<string, unknown> }> {
  if ('json' in body) return { 'application/json': { schema: openApiSchema(body.json) } };
  if ('binary' in body) return { [body.binary]: { schema: { type: 'string', format: 'binary' } } };
  return { [body.text]: { schema: { type: 'string' } } };
}

/** Media types whose body `POST /api/federations` takes as the YAML spec itself (see `yamlSpecBodies`). */
export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/** Documents that `POST /api/federations` also takes the YAML spec as its whole body. */
export function documentYamlSpecBody(document: OpenAPIObject): void {
  const body = document.paths['/api/federations']?.post?.requestBody;
  if (!body || '$ref' in body) return;
  const yaml = { schema: { type: 'string', description: 'the federation spec as YAML (starts it at once)' } };
  body.content = { ...body.content, ...Object.fromEntries(YAML_TYPES.map((t) => [t, yaml])) };
}
