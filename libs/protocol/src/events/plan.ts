/**
 * The training plan the aggregator signs for each round (domain `concord/plan/v1`) and every cohort member
 * verifies against the aggregator key it pinned at enrollment. It carries the roster (so the roster is signed too),
 * the model's SHA-256 (so the binary weights sent beside it are bound to the signature) and an expiry.
 */
import { FederationModelSchema } from '../federation-spec.js';
import { z } from 'zod';
import { EvaluationPlanSchema } from './evaluation.js';
import { PROTOCOL_LIMITS, PROTOCOL_VERSION } from './version.js';

const id = z.string().min(1).max(PROTOCOL_LIMITS.maxIdLength);
const base64Of = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9+/]*={0,2}$/)
    .refine((s) => Buffer.from(s, 'base64').length === bytes, `expected ${bytes} bytes in base64`);
export const Base64Key32 = base64Of(32);
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const positive = z.number().finite().gt(0);

/**
 * The model as the plan carries it: the federation spec's model schema itself (one schema for one idea; its layer
 * objects are strict, so a layer with an unknown key is refused rather than silently stripped).
 */
export const ModelSpecWireSchema = FederationModelSchema;

/**
 * Distributed discrete Gaussian parameters (Kairouz, Liu, Steinke 2021), per round, in the receipt's terms:
 * `granularity` = integer units per model unit (2^scaleBits), `localNoiseVariance` in integer units^2.
 */
export const DistributedPlanSchema = z
  .object({
    scaleBits: z.number().int().min(0).max(24),
    roundingBeta: z.number().min(0).lt(1),
    dimension: z.number().int().min(1),
    /** equals `secagg.modulusBits` (derived: events/modulus.ts); signed into the receipt */
    modulusBits: z.number().int().min(2).max(32),
    localNoiseVariance: positive,
    minNoisyClients: z.number().int().min(1),
    cohortSize: z.number().int().min(1),
    /** Each sampled record adds `countWeight` (model units) to the last coordinate: the noisy batch size rides along. */
    countWeight: positive,
  })
  .strict();
export type DistributedPlan = z.infer<typeof DistributedPlanSchema>;

/** Local mode: each site runs DP-SGD (`steps` subsampled Gaussian steps per round) and is charged for it. */
export const LocalPrivacyPlanSchema = z
  .object({
    mode: z.literal('local'),
    sampleRate: z.number().gt(0).max(1),
    noiseMultiplier: positive,
    steps: z.number().int().min(1).max(1_000_000),
    clipNorm: positive,
    delta: z.number().gt(0).lt(1),
    /** how sites compose this charge with their history (absent in plans before pinned terms: rdp) */
    accountant: z.enum(['rdp', 'prv']).optional(),
  })
  .strict();

/** Distributed mode: one noisy gradient per site per round, the noise summed across sites (DDG). */
export const DistributedPrivacyPlanSchema = z
  .object({
    mode: z.literal('distributed'),
    sampleRate: z.number().gt(0).max(1),
    /** The multiplier the released sum carries with `distributed.minNoisyClients` sites' noise (informational). */
    noiseMultiplier: positive,
    steps: z.literal(1),
    clipNorm: positive,
    delta: z.number().gt(0).lt(1),
    /** distributed mode is accounted with RDP only (absent in plans before pinned terms) */
    accountant: z.literal('rdp').optional(),
    distributed: DistributedPlanSchema,
  })
  .strict();

/** No differential privacy: plain federated averaging (no charge). */
export const NonePrivacyPlanSchema = z
  .object({ mode: z.literal('none'), batchSize: z.number().int().min(1), steps: z.number().int().min(1) })
  .strict();

/**
 * The privacy terms of a round as sites receive them. The aggregator's stored settings
 * (apps/aggregator federation/settings.ts) are derived from these member schemas, not restated.
 */
export const PrivacyPlanSchema = z.discriminatedUnion('mode', [
  LocalPrivacyPlanSchema,
  DistributedPrivacyPlanSchema,
  NonePrivacyPlanSchema,
]);
export type PrivacyPlan = z.infer<typeof PrivacyPlanSchema>;

/** The site's local optimizer in a plan (and in the aggregator's stored settings, which hold the same block). */
export const OptimizationPlanSchema = z
  .object({
    learningRate: positive,
    momentum: z.number().min(0).lt(1),
    proximalMu: z.number().min(0),
    /** binary tables: the positive class's loss-gradient weight, applied before clipping (absent: 1) */
    classWeight: positive.lt(1e6).optional(),
  })
  .strict();

/** Fixed-point encoding of the update in local/none modes: clip each value to [-clip, clip], scale 2^scaleBits. */
export const EncodingPlanSchema = z.object({ clip: positive, scaleBits: z.number().int().min(0).max(24) }).strict();

export const RosterMemberSchema = z
  .object({
    siteId: id,
    identityPublicKey: Base64Key32,
    /** The site's newest receipt charged in the aggregator's ledger (null: none yet): the next one chains to it. */
    lastReceipt: z
      .object({ sequence: z.number().int().min(1), receiptHash: hex64 })
      .strict()
      .nullable(),
  })
  .strict();
export type RosterMember = z.infer<typeof RosterMemberSchema>;

export const TrainingPlanSchema = z
  .object({
    version: z.literal(PROTOCOL_VERSION),
    federationId: id,
    roundId: id,
    roundNumber: z.number().int().min(1),
    issuedAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    model: z.object({ spec: ModelSpecWireSchema, parameterCount: z.number().int().min(1), sha256: hex64 }).strict(),
    privacy: PrivacyPlanSchema,
    optimization: OptimizationPlanSchema,
    encoding: EncodingPlanSchema,
    secagg: z
      .object({
        threshold: z.number().int().min(2),
        neighbours: z.number().int().min(1),
        vectorLength: z.number().int().min(1),
        /** sums are taken mod 2^modulusBits and masked inputs packed at that width (derived: events/modulus.ts) */
        modulusBits: z.number().int().min(2).max(32),
        // No graph seed: the aggregator does not choose it. The cohort draws it by commit-and-reveal (SecAgg+
        // stages S1-S2, @concord/secagg seed-flip.ts); a plan that still carries one is refused (strict).
      })
      .strict(),
    roster: z.array(RosterMemberSchema).min(2).max(PROTOCOL_LIMITS.maxCohort),
    /**
     * Present: an evaluation request (libs/protocol events/evaluation.ts). The cohort evaluates `model` on its
     * validation splits and sends the vector of counts under SecAgg+ instead of an update; the privacy block keeps
     * the federation's training terms (checked against the pinned terms as in every plan).
     */
    evaluation: EvaluationPlanSchema.optional(),
  })
  .strict();
export type TrainingPlan = z.infer<typeof TrainingPlanSchema>;
