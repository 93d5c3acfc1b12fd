/**
 * What the round engine needs to run a federation, stored as the federation's `spec` (jsonb). The operator-facing
 * federation spec (libs/protocol federation-spec.ts) resolves into this; `concord simulate` builds it directly.
 */
import { defaultSecAggShape } from '@concord/fedopt';
import {
  collusionSafeShape,
  DEFAULT_MAX_COLLUDERS,
  DistributedPlanSchema,
  DistributedPrivacyPlanSchema,
  EncodingPlanSchema,
  EvaluationPlanSchema,
  FederationDatasetSchema,
  LocalPrivacyPlanSchema,
  ModelSpecWireSchema,
  NonePrivacyPlanSchema,
  OptimizationPlanSchema,
  PreprocessPlanSchema,
  SERVER_OPTIMIZER_NAMES,
  ValidationSplitSchema,
} from '@concord/protocol';
import { z } from 'zod';

const positive = z.number().finite().gt(0);

export const FederationSettingsSchema = z
  .object({
    model: ModelSpecWireSchema,
    rounds: z.number().int().min(1).max(100_000),
    cohort: z.object({ minSites: z.number().int().min(2), maxSites: z.number().int().min(2).max(1000) }).strict(),
    /**
     * The round's privacy terms, derived from the wire schema sites check (libs/protocol events/plan.ts): local and
     * none are the plan's own shapes; distributed keeps the plan's common terms and adds what the plan builder
     * turns into the plan's `distributed` block.
     */
    privacy: z.discriminatedUnion('mode', [
      LocalPrivacyPlanSchema,
      DistributedPrivacyPlanSchema.pick({ sampleRate: true, clipNorm: true, delta: true })
        .extend({
          mode: z.literal('distributed'),
          /** central noise multiplier of the released sum, given `threshold` sites' shares */
          noiseMultiplier: DistributedPrivacyPlanSchema.shape.noiseMultiplier,
          scaleBits: DistributedPlanSchema.shape.scaleBits,
          countWeight: DistributedPlanSchema.shape.countWeight,
          /**
           * per-site, per-coordinate clamp of the summed update, model units (issue 20): sized from the sites' data
           * (e.g. the expected batch's count coordinate) it narrows the SecAgg+ modulus; absent, the clamp fills
           * half of 32 bits. Not a privacy term (clamping is 1-Lipschitz), only the sum's range.
           */
          clamp: positive.optional(),
          /** sites round their sum with plain randomized rounding (libs/secagg site-sum.ts): conditional rounding is refused */
          roundingBeta: z.literal(0).default(0),
        })
        .strict(),
      NonePrivacyPlanSchema,
    ]),
    optimization: OptimizationPlanSchema,
    /** server optimizer (libs/fedopt; Reddi et al. 2021), its state saved with every model version */
    server: z
      .object({
        optimizer: z.enum(SERVER_OPTIMIZER_NAMES),
        learningRate: positive,
        momentum: z.number().min(0).lt(1),
        secondMomentDecay: z.number().min(0).lt(1).default(0.99),
        adaptivity: positive.default(1e-3),
      })
      .strict(),
    /** data-independent preprocessing every site applies before training (libs/datasets preprocess) */
    preprocess: PreprocessPlanSchema.default({ steps: [] }),
    /** what each site's data looks like (from the federation spec); sent to sites at enrollment so they validate it */
    dataset: FederationDatasetSchema.optional(),
    encoding: EncodingPlanSchema,
    timeouts: z
      .object({
        planMs: z.number().int().min(100),
        stageMs: z.number().int().min(100),
        trainingMs: z.number().int().min(100),
      })
      .strict(),
    /** how long a plan stays valid after it is issued */
    planTtlMs: z.number().int().min(1000).default(600_000),
    watermark: z.boolean().default(false),
    /** SecAgg+ neighbours per site k (even, or n-1 for the complete graph); default ~2 log2 n */
    secaggNeighbours: z.number().int().min(1).optional(),
    /** SecAgg+ threshold t (default: the smallest with 2t-(k+1) > c); distributed noise is sized for t - c shares */
    secaggThreshold: z.number().int().min(2).optional(),
    /** c: cohort members that may collude with the aggregator (default 1; libs/protocol collusion.ts) */
    secaggMaxColluders: z.number().int().min(0).optional(),
    /**
     * Private federated evaluation (libs/protocol events/evaluation.ts): after every `every`-th released model
     * version (and the last), the cohort evaluates it on the validation splits the sites pinned at enrollment.
     * Absent: no evaluation rounds.
     */
    evaluation: z
      .object({
        every: z.number().int().min(1).max(100_000),
        validation: ValidationSplitSchema,
        lossClip: EvaluationPlanSchema.shape.lossClip,
        /** z of the evaluation's Gaussian mechanism (0 only in mode none) */
        noiseMultiplier: EvaluationPlanSchema.shape.noiseMultiplier,
        scaleBits: EvaluationPlanSchema.shape.scaleBits,
      })
      .strict()
      .optional(),
    /** seed (hex, 32 bytes) of the initial weights, for reproducible experiments; random when absent */
    initSeed: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
  })
  .strict()
  .refine((s) => s.cohort.minSites <= s.cohort.maxSites, { message: 'cohort.minSites must be <= cohort.maxSites' });
export type FederationSettings = z.infer<typeof FederationSettingsSchema>;

/**
 * SecAgg+ graph degree k and threshold t for a cohort of n with at most c colluders (complete graph up to 8 sites,
 * then ~2 log2 n neighbours; t the smallest with 2t-(k+1) > c unless given). A given t above k + 1 is lowered to
 * k + 1 (a smaller roster than configured); a given t below the smallest that holds the bound (settings stored
 * before c was declared, e.g. t = 3 for k = 4) is raised to it, never lowered. @throws CollusionBoundError
 * (E_COLLUSION_BOUND) when the shape cannot hold 2t-(k+1) > c.
 */
export function secAggShape(
  n: number,
  k?: number,
  t?: number,
  maxColluders: number = DEFAULT_MAX_COLLUDERS,
): { neighbours: number; threshold: number } {
  const given = k === undefined ? undefined : Math.min(k, n - 1);
  if (given !== undefined && given !== n - 1 && given % 2 === 1)
    throw new RangeError(`secaggNeighbours must be even or n-1, got ${k}`);
  if (given === undefined && t === undefined) return defaultSecAggShape(n, maxColluders);
  const neighbours = given ?? defaultSecAggShape(n, maxColluders).neighbours;
  const least = Math.floor((neighbours + 1 + maxColluders) / 2) + 1;
  return collusionSafeShape(n, maxColluders, {
    neighbours,
    threshold: t === undefined ? undefined : Math.min(neighbours + 1, Math.max(t, least)),
  });
}
