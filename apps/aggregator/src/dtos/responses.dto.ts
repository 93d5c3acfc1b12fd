/**
 * Response shapes of the REST API (zod), for the OpenAPI document (openapi-routes.ts). Loose objects: an answer may
 * carry more fields than documented, never fewer.
 */
import { z } from 'zod';
import { FEDERATION_STATUSES } from '../db/schema/federations.js';

export const uuid = z.string().describe('uuid');
export const timestamp = z.string().describe('ISO 8601 date-time');
export const reason = z.object({ code: z.string(), message: z.string() });

export const Federation = z.looseObject({
  id: uuid,
  name: z.string(),
  spec: z.record(z.string(), z.unknown()).describe('the resolved federation settings'),
  status: z.enum(FEDERATION_STATUSES),
  statusReason: reason.nullable().describe('why the federation is not progressing right now; null when it is'),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const paged = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });

export const Budget = z.looseObject({
  epsilonSpent: z.number(),
  delta: z.number(),
  capEpsilon: z.number(),
  capDelta: z.number(),
  remaining: z.number(),
  charges: z.number().int(),
});

export const Round = z.looseObject({
  id: uuid,
  number: z.number().int(),
  kind: z
    .enum(['training', 'evaluation'])
    .describe('training releases a model version; evaluation privately evaluates one (its metrics go on that version)'),
  state: z.enum(['open', 'training', 'unmasking', 'aggregated', 'released', 'failed']),
  stageTimings: z.record(z.string(), z.unknown()),
  failureReason: z.string().nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const Participant = z.looseObject({
  siteId: uuid,
  stage: z.string(),
  dropped: z.boolean(),
  dropReason: z.string().nullable(),
  droppedAt: timestamp.nullable(),
});

const metric = (what: string) => z.number().optional().describe(what);
const noiseStd = (what: string) =>
  z.number().optional().describe(`standard deviation of the DP noise on ${what} (the noisy value is ± this)`);

/**
 * A model version's metrics. The private federated evaluation (an evaluation round on the sites' validation splits)
 * writes each noisy metric beside the std of its noise; simulate and demo also evaluate on the server's own
 * held-out set at release (`heldOut*`, exact, no noise).
 */
export const ModelMetrics = z.looseObject({
  accuracy: metric('private evaluation: noisy accuracy on the validation splits of the sites'),
  accuracyStd: noiseStd('accuracy'),
  loss: metric('private evaluation: noisy mean clipped loss'),
  lossStd: noiseStd('loss'),
  rocAuc: metric('private evaluation, binary tables: noisy ROC AUC'),
  rocAucStd: noiseStd('rocAuc'),
  evaluatedRecords: metric('private evaluation: noisy count of validation records'),
  evaluatedRecordsStd: noiseStd('evaluatedRecords'),
  evaluatedSites: z.number().int().optional().describe('sites whose counts were summed'),
  heldOutAccuracy: metric('simulate/demo: exact accuracy on the server held-out set at release'),
  heldOutLoss: metric('simulate/demo: exact loss on the server held-out set at release'),
  heldOutRocAuc: metric('simulate/demo, binary tables: ROC AUC on the server held-out set'),
  heldOutPrAuc: metric('simulate/demo, binary tables: PR AUC on the server held-out set'),
  heldOutLogLoss: metric('simulate/demo, binary tables: log-loss on the server held-out set'),
});

export const ModelVersion = z.looseObject({
  id: uuid,
  federationId: uuid,
  roundId: uuid.nullable(),
  version: z.number().int(),
  sha256: z.string().describe('sha256 of the float32 weights'),
  fileSha256: z
    .string()
    .nullable()
    .describe('sha256 of the safetensors file that the download serves (null when there is none to serve)'),
  sizeBytes: z.number().int(),
  watermarkId: z.string().nullable(),
  metrics: ModelMetrics,
  createdAt: timestamp,
});

export const Certificate = z.looseObject({
  statement: z.looseObject({
    type: z.string(),
    federationId: z.string(),
    modelSha256: z.string().describe('sha256 of the downloaded safetensors file'),
    keyCommitment: z.string(),
    keyRole: z.string(),
    scheme: z.string(),
    issuedAt: timestamp,
    modelVersion: z.number().int().optional(),
  }),
  algorithm: z.literal('Ed25519'),
  publicKey: z.string().describe('raw Ed25519 public key of the aggregator, base64'),
  signature: z.string(),
});

export const ApiKeyView = z.looseObject({
  id: uuid,
  name: z.string(),
  role: z.enum(['admin', 'operator', 'auditor', 'site']),
  federationId: uuid.nullable(),
  siteId: uuid.nullable(),
  createdAt: timestamp,
  lastUsedAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
});

export const Finding = z.looseObject({ seq: z.number().int(), kind: z.string(), message: z.string() });

/** What an error answer looks like (OperatorExceptionFilter). */
export const ErrorResponse = z.object({
  statusCode: z.number().int(),
  code: z.string().describe('E_BAD_REQUEST, E_NOT_FOUND, E_CONFLICT, E_UNAUTHENTICATED, E_FORBIDDEN, ...'),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
