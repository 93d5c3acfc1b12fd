/**
 * Request shapes of the dashboard API (zod), parsed at the edge (pipes/zod.pipe.ts) so every bad input becomes a 400 with a
 * code and the path of each bad field. The OpenAPI document describes the same shapes (see dtos/openapi.ts).
 */
import { z } from 'zod';
import { FEDERATION_STATUSES } from '../db/schema/federations.js';
import { API_KEY_ROLES } from '../repositories/api-key.repository.js';

const uuid = z.string().uuid();

export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000_000).default(0),
});

export const FederationListQuerySchema = PageQuerySchema.extend({
  status: z.enum(FEDERATION_STATUSES).optional(),
});

export const CreateFederationBodySchema = z
  .object({
    /** the federation spec: an object, or its YAML/JSON text */
    spec: z.union([z.record(z.string(), z.unknown()), z.string().min(1).max(1_000_000)]),
    /** start rounds now (default) or keep it a draft */
    start: z.boolean().default(true),
  })
  .strict();

export const IssueTokenBodySchema = z
  .object({
    ttlMinutes: z
      .number()
      .int()
      .min(1)
      .max(30 * 24 * 60)
      .default(24 * 60),
  })
  .strict();

export const TokenListQuerySchema = PageQuerySchema.extend({ state: z.enum(['active', 'used', 'expired']).optional() });
export const SiteListQuerySchema = PageQuerySchema.extend({
  status: z.enum(['active', 'suspended', 'revoked']).optional(),
});
export const RoundListQuerySchema = PageQuerySchema.extend({
  state: z.enum(['open', 'training', 'unmasking', 'aggregated', 'released', 'failed']).optional(),
  kind: z.enum(['training', 'evaluation']).optional(),
});
export const MetricListQuerySchema = PageQuerySchema.extend({
  name: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});
export const AuditListQuerySchema = PageQuerySchema.extend({
  federationId: uuid.optional(),
  action: z.string().min(1).max(100).optional(),
});
export const KeyListQuerySchema = PageQuerySchema.extend({
  role: z.enum(API_KEY_ROLES as ['admin', 'operator', 'auditor', 'site']).optional(),
});

export const CreateKeyBodySchema = z
  .object({
    role: z.enum(API_KEY_ROLES as ['admin', 'operator', 'auditor', 'site']),
    name: z.string().trim().min(1).max(200),
    federationId: uuid.optional(),
    siteId: uuid.optional(),
  })
  .strict()
  .refine((b) => (b.role === 'site') === (b.siteId !== undefined), {
    message: 'siteId is required for role site and only for it',
    path: ['siteId'],
  });

export const IdSchema = uuid;
export const VersionSchema = z.coerce.number().int().min(0).max(2_147_483_647);

export type PageQuery = z.output<typeof PageQuerySchema>;
export type FederationListQuery = z.output<typeof FederationListQuerySchema>;
export type CreateFederationBody = z.output<typeof CreateFederationBodySchema>;
export type IssueTokenBody = z.output<typeof IssueTokenBodySchema>;
export type TokenListQuery = z.output<typeof TokenListQuerySchema>;
export type SiteListQuery = z.output<typeof SiteListQuerySchema>;
export type RoundListQuery = z.output<typeof RoundListQuerySchema>;
export type MetricListQuery = z.output<typeof MetricListQuerySchema>;
export type AuditListQuery = z.output<typeof AuditListQuerySchema>;
export type KeyListQuery = z.output<typeof KeyListQuerySchema>;
export type CreateKeyBody = z.output<typeof CreateKeyBodySchema>;
