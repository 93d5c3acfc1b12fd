/** Messages of the agent <-> aggregator protocol outside SecAgg+ (whose stage messages live in ../secagg). */
import { z } from 'zod';
import { FederationDatasetSchema, PreprocessPlanSchema } from '../federation-spec.js';
import { privacyReceiptSchema } from '../receipt.js';
import { MaskedInputSchema } from '../secagg/messages.js';
import { TrainingPlanSchema } from './plan.js';
import { PrivacyTermsSchema } from './privacy-terms.js';
import { PROTOCOL_ERROR_CODES } from './errors.js';
import { PROTOCOL_LIMITS, PROTOCOL_VERSION } from './version.js';

const id = z.string().min(1).max(PROTOCOL_LIMITS.maxIdLength);
const nonce = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/)
  .refine((s) => Buffer.from(s, 'base64').length === 16, 'expected 16 bytes in base64');
const signature = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/)
  .refine((s) => Buffer.from(s, 'base64').length === 64, 'expected 64 bytes in base64');
const binary = (maxBytes: number) =>
  z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.byteLength <= maxBytes, {
    message: `expected binary of at most ${maxBytes} bytes`,
  });

/** socket.io handshake `auth` payload: checked before any event handler runs. */
export const HandshakeAuthSchema = z.object({ version: z.literal(PROTOCOL_VERSION), siteId: id }).strict();
export type HandshakeAuth = z.infer<typeof HandshakeAuthSchema>;

/** Agent -> aggregator, first event: the agent's fresh nonce. Ack: AuthChallenge. */
export const AuthHelloSchema = z.object({ siteId: id, clientNonce: nonce }).strict();
export type AuthHello = z.infer<typeof AuthHelloSchema>;

/**
 * Ack of auth:hello: the aggregator's fresh nonce and its signature (domain concord/auth/server/v1) over
 * { siteId, clientNonce, serverNonce }: the agent checks it with the pinned key before proving itself.
 */
export const AuthChallengeSchema = z.object({ serverNonce: nonce, serverSignature: signature }).strict();
export type AuthChallenge = z.infer<typeof AuthChallengeSchema>;

/** Agent -> aggregator: Ed25519 signature (domain concord/auth/site/v1) over { siteId, clientNonce, serverNonce }. */
export const AuthProveSchema = z.object({ signature }).strict();
export type AuthProve = z.infer<typeof AuthProveSchema>;

export const ErrorReplySchema = z
  .object({
    ok: z.literal(false),
    code: z.union([z.enum(PROTOCOL_ERROR_CODES), z.string().regex(/^E_[A-Z0-9_]{1,60}$/)]),
    reason: z.string().max(PROTOCOL_LIMITS.maxReasonLength),
  })
  .strict();
export type ErrorReply = z.infer<typeof ErrorReplySchema>;
export const OkReplySchema = z.object({ ok: z.literal(true) }).strict();
export type OkReply = z.infer<typeof OkReplySchema>;

/** Aggregator -> cohort member: the signed plan and the global model's weights (float32 LE). Ack: OkReply | ErrorReply. */
export const RoundPlanMessageSchema = z
  .object({
    plan: TrainingPlanSchema,
    signature,
    weights: binary(4 * PROTOCOL_LIMITS.maxParameters),
  })
  .strict();
export type RoundPlanMessage = z.infer<typeof RoundPlanMessageSchema>;

/** Aggregator -> cohort member: open SecAgg+ stage 0. Ack: AdvertiseKeys | ErrorReply. */
export const AdvertiseRequestSchema = z.object({ federationId: id, roundId: id }).strict();
export type AdvertiseRequest = z.infer<typeof AdvertiseRequestSchema>;

/**
 * Ack of the share route (SecAgg+ stage 2): the masked vector and, in DP modes, the privacy receipt the site
 * signed for this round (charged into the ledger before anything is unmasked).
 */
export const MaskedUpdateReplySchema = z
  .object({
    ok: z.literal(true),
    masked: MaskedInputSchema,
    receipt: privacyReceiptSchema.optional(),
    receiptSignature: signature.optional(),
  })
  .strict();
export type MaskedUpdateReply = z.infer<typeof MaskedUpdateReplySchema>;

/** Aggregator -> cohort: the round ended without a result (or the site was dropped from it). */
export const RoundAbortSchema = z
  .object({ roundId: id, code: z.string().max(64), reason: z.string().max(512) })
  .strict();
export type RoundAbort = z.infer<typeof RoundAbortSchema>;

/** Aggregator -> cohort: the round's model was released (for progress output; no data about any site). */
export const RoundResultSchema = z
  .object({
    roundId: id,
    roundNumber: z.number().int().min(1),
    modelVersion: z.number().int().min(0),
    /** 'evaluation': the round evaluated `modelVersion` (absent: it released it) */
    kind: z.literal('evaluation').optional(),
  })
  .strict();
export type RoundResult = z.infer<typeof RoundResultSchema>;

/** Aggregator -> agent: the federation has finished all its rounds. */
export const FederationDoneSchema = z.object({ federationId: id, rounds: z.number().int().min(0) }).strict();
export type FederationDone = z.infer<typeof FederationDoneSchema>;

/** REST POST /api/enroll body and reply. */
export const EnrollRequestSchema = z
  .object({
    token: z.string().min(16).max(256),
    ed25519PublicKey: z.string().refine((s) => Buffer.from(s, 'base64').length === 32, 'expected 32 bytes in base64'),
    x25519PublicKey: z.string().refine((s) => Buffer.from(s, 'base64').length === 32, 'expected 32 bytes in base64'),
    cap: z.object({ epsilon: z.number().finite().gt(0), delta: z.number().gt(0).lt(1) }).strict(),
    name: z.string().min(1).max(128).optional(),
  })
  .strict();
export type EnrollRequest = z.infer<typeof EnrollRequestSchema>;
export const EnrollResponseSchema = z
  .object({
    siteId: z.string(),
    federationId: z.string(),
    serverPublicKey: z.string(),
    /** the part of the federation spec a site needs: its dataset schema and the preprocessing (a valid FederationSpec) */
    spec: z.object({ dataset: FederationDatasetSchema, preprocessing: PreprocessPlanSchema }).strict().optional(),
    /** the federation's privacy terms, which the site pins beside serverPublicKey (events/privacy-terms.ts) */
    terms: PrivacyTermsSchema.optional(),
  })
  .strict();
export type EnrollResponse = z.infer<typeof EnrollResponseSchema>;
