/**
 * The federation spec: the one document (YAML or JSON) an operator writes to define a federation, shared by the
 * REST API, `concord simulate` and the docs (docs/federation-spec.md). Every field but `dataset` has a default;
 * the defaults are the tuned values of bench/federation (docs/benchmarks.md, "Federation utility"), chosen once for
 * MNIST-sized problems and never tuned per run.
 *
 * Privacy is per record, per site, over the WHOLE federation: `privacy.epsilon` (nats) and `privacy.delta` are
 * what one site's records get after every round it may join; the noise multiplier is calibrated from them
 * (@concord/fedopt `resolveTrainingPlan`) unless `privacy.noiseMultiplier` is given, in which case the resulting
 * epsilon is reported instead.
 */
import { ConcordError } from './concord-error.js';
import { z } from 'zod';

const positive = z.number().finite().gt(0);
const unit = z.number().min(0).lt(1);
const identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'letters, digits, _ . - (not starting with a digit)');

export const FederationLayerSchema = z
  .object({
    units: z
      .number()
      .int()
      .min(1)
      .max(1 << 16),
    activation: z.enum(['relu', 'tanh', 'none']),
  })
  .strict();

/** The network (the native addon's ModelSpec). `inputSize` is the size AFTER preprocessing. */
export const FederationModelSchema = z
  .object({
    inputSize: z
      .number()
      .int()
      .min(1)
      .max(1 << 20),
    layers: z.array(FederationLayerSchema).min(1).max(64),
    loss: z.enum(['softmax-cross-entropy', 'sigmoid-binary-cross-entropy', 'mse']),
  })
  .strict();
export type FederationModel = z.infer<typeof FederationModelSchema>;

const token = z.string().max(128);
const missingTokens = z.array(token).min(1).max(16).optional();

/**
 * One column of a table under public, schema-driven preprocessing (libs/datasets tabular.ts): a numeric column with
 * public bounds (clipped, then `linear` or `log1p` scaled to [-1, 1]; missing tokens add an indicator feature), or
 * a categorical column one-hot over its declared values plus an "other" slot (missing tokens: their own category).
 */
export const TableColumnSchema = z.discriminatedUnion('type', [
  z
    .object({
      name: identifier,
      type: z.literal('numeric'),
      min: z.number().finite(),
      max: z.number().finite(),
      scale: z.enum(['linear', 'log1p']).optional(),
      missing: missingTokens,
    })
    .strict()
    .refine((c) => c.min < c.max, { message: 'min must be below max' }),
  z
    .object({
      name: identifier,
      type: z.literal('categorical'),
      values: z.array(token.min(1)).min(1).max(4096),
      missing: missingTokens,
    })
    .strict()
    .refine((c) => new Set(c.values).size === c.values.length, { message: 'values must be distinct' })
    .refine((c) => !(c.missing ?? []).some((t) => c.values.includes(t)), {
      message: 'a missing token must not be a declared value',
    }),
]);
export type TableColumnSpec = z.infer<typeof TableColumnSchema>;

/**
 * What each site's data looks like: the MNIST trial dataset, or a table (CSV) with named columns. A table gives
 * either `featureColumns` (numeric, already scaled, used as they are) or `columns` (schema-driven preprocessing).
 * `positiveClass` makes the task binary (label 1 for that class, 0 for the others; a sigmoid model by default);
 * `classPrior` is a PUBLIC prior of the positive class (documentation, registry), used only to initialise the
 * output bias to its logit.
 */
export const FederationDatasetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('mnist') }).strict(),
  z
    .object({
      kind: z.literal('table'),
      featureColumns: z
        .array(identifier)
        .min(1)
        .max(1 << 16)
        .optional(),
      columns: z
        .array(TableColumnSchema)
        .min(1)
        .max(1 << 12)
        .optional(),
      labelColumn: identifier,
      /** class labels as they appear in the label column; their order defines the class indices */
      classes: z
        .array(z.string().min(1).max(128))
        .min(2)
        .max(1 << 16),
      positiveClass: z.string().min(1).max(128).optional(),
      classPrior: z.number().gt(0).lt(1).optional(),
    })
    .strict()
    .refine((d) => (d.featureColumns === undefined) !== (d.columns === undefined), {
      message: 'give featureColumns (numeric, used as they are) or columns (schema-driven preprocessing), not both',
    })
    .refine((d) => !tableFeatureNames(d).includes(d.labelColumn), {
      message: 'labelColumn must not be a feature column',
    })
    .refine((d) => new Set(tableFeatureNames(d)).size === tableFeatureNames(d).length, {
      message: 'feature column names must be distinct',
    })
    .refine((d) => new Set(d.classes).size === d.classes.length, { message: 'classes must be distinct' })
    .refine((d) => d.positiveClass === undefined || d.classes.includes(d.positiveClass), {
      message: 'positiveClass must be one of the classes',
    })
    .refine((d) => d.classPrior === undefined || d.positiveClass !== undefined, {
      message: 'classPrior needs positiveClass (binary tasks)',
    }),
]);

/** The feature column names of a table dataset, in order, whichever form it uses. */
export function tableFeatureNames(d: { featureColumns?: string[]; columns?: { name: string }[] }): string[] {
  return d.featureColumns ?? (d.columns ?? []).map((c) => c.name);
}
export type FederationDataset = z.infer<typeof FederationDatasetSchema>;

/** Data-independent preprocessing (libs/datasets preprocess.ts): constants only, never fitted on data. */
export const PreprocessStepSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('avg-pool'),
      side: z.number().int().min(1).max(4096),
      size: z.number().int().min(1).max(64),
    })
    .strict(),
  z
    .object({
      kind: z.literal('scattering'),
      side: z.number().int().min(1).max(4096),
      scales: z.number().int().min(1).max(4),
      orientations: z.number().int().min(1).max(16),
    })
    .strict(),
  z.object({ kind: z.literal('affine'), shift: z.number().finite(), scale: z.number().finite() }).strict(),
]);
export const PreprocessPlanSchema = z.object({ steps: z.array(PreprocessStepSchema).max(16) }).strict();

export const PRIVACY_MODES = ['local', 'distributed', 'none'] as const;
export type PrivacyMode = (typeof PRIVACY_MODES)[number];

/**
 * DP settings. Either `epsilon` (target, nats, per site over all rounds) or `noiseMultiplier` (explicit), not both;
 * with neither, the default target epsilon applies. Mode `none` ignores the DP fields.
 */
export const FederationPrivacySchema = z
  .object({
    mode: z.enum(PRIVACY_MODES).optional(),
    epsilon: positive.optional(),
    noiseMultiplier: positive.optional(),
    delta: z.number().gt(0).lt(1).optional(),
    accountant: z.enum(['rdp', 'prv']).optional(),
    /** q: Poisson sampling rate of a site's records per DP-SGD step */
    sampleRate: z.number().gt(0).max(1).optional(),
    /** C: per-example L2 clipping norm (model units) */
    clipNorm: positive.optional(),
    /** local mode: DP-SGD steps per round at each site; mode none: SGD steps per round */
    localSteps: z.number().int().min(1).max(100_000).optional(),
    /** mode none: batch size of local SGD */
    batchSize: z.number().int().min(1).optional(),
    /** distributed mode: fixed-point scale 2^scaleBits integer units per model unit */
    scaleBits: z.number().int().min(0).max(24).optional(),
    /** distributed mode: the count coordinate each sampled record adds (model units, < clipNorm) */
    countWeight: positive.optional(),
    /**
     * distributed mode: bias of conditional randomized rounding. Only 0 (plain randomized rounding) is accepted: a
     * site rounds its summed update as a whole, and only plain randomized rounding keeps one record's effect on the
     * rounded sum within C 2^s + sqrt(d) (libs/dp ddg.ts); conditional rounding needs a contribution clipped as a
     * whole.
     */
    roundingBeta: z
      .literal(0, {
        error:
          'privacy.roundingBeta must be 0: sites round their summed update with plain randomized rounding (conditional rounding is only sound for a contribution clipped as a whole)',
      })
      .optional(),
  })
  .strict()
  .refine((p) => p.epsilon === undefined || p.noiseMultiplier === undefined, {
    message: 'give privacy.epsilon (target) or privacy.noiseMultiplier (explicit), not both',
  });

export const SERVER_OPTIMIZER_NAMES = ['fedavg', 'fedavgm', 'fedadam', 'fedyogi'] as const;

export const FederationServerSchema = z
  .object({
    optimizer: z.enum(SERVER_OPTIMIZER_NAMES).optional(),
    learningRate: positive.optional(),
    /** beta1: momentum (FedAvgM) or first-moment decay (FedAdam, FedYogi) */
    momentum: unit.optional(),
    /** beta2 (FedAdam, FedYogi) */
    secondMomentDecay: unit.optional(),
    /** tau (FedAdam, FedYogi) */
    adaptivity: positive.optional(),
  })
  .strict();

export const FederationLocalSchema = z
  .object({
    learningRate: positive.optional(),
    momentum: unit.optional(),
    /** FedProx (Li et al. 2020) proximal term mu: gradient += mu (w - w_round_start); 0 disables it */
    proximalMu: z.number().min(0).finite().optional(),
    /**
     * Binary tables: PUBLIC weight of the positive class. Each site multiplies a positive example's loss gradient by
     * it BEFORE per-example clipping (native trainLocal classWeight), so sensitivity and charge are unchanged.
     * Default 1 (libs/fedopt; docs/benchmarks.md "Tabular binary tasks" has the measurement behind it).
     */
    classWeight: positive.lt(1e6).optional(),
  })
  .strict();

export const FederationSpecSchema = z
  .object({
    version: z.literal(1).default(1),
    name: z.string().min(1).max(200).optional(),
    dataset: FederationDatasetSchema,
    preprocessing: PreprocessPlanSchema.optional(),
    model: FederationModelSchema.optional(),
    privacy: FederationPrivacySchema.default({}),
    rounds: z.number().int().min(1).max(100_000).optional(),
    cohort: z
      .object({
        /** sites per round (the aggregator waits for this many connected sites) */
        size: z.number().int().min(2).max(1000).optional(),
        /** a round starts with at least this many */
        minSites: z.number().int().min(2).max(1000).optional(),
      })
      .strict()
      .default({}),
    secureAggregation: z
      .object({
        /** t: survivors needed to unmask; distributed noise is sized so any t - c honest shares carry the full noise */
        threshold: z.number().int().min(2).optional(),
        /** k: SecAgg+ neighbours per site */
        neighbours: z.number().int().min(1).optional(),
        /**
         * c: cohort members that may collude with the aggregator (default 1). t is chosen so 2t-(k+1) > c, and
         * distributed noise is sized for the t - c honest shares every released sum carries (docs/threat-model.md).
         */
        maxColluders: z.number().int().min(0).max(1000).optional(),
      })
      .strict()
      .default({}),
    watermark: z
      .object({ enabled: z.boolean().default(true) })
      .strict()
      .default({ enabled: true }),
    server: FederationServerSchema.default({}),
    local: FederationLocalSchema.default({}),
    /**
     * Private federated evaluation (docs/federation-spec.md): every `every` model versions (and the last) the cohort
     * evaluates the model on validation splits the sites hold out by their own private coin (`validationFraction`
     * of their records, never trained on), under SecAgg+ with noise, charged like a training round (the max rule).
     * Defaults: on, about 3 evaluations, 20 %, the noise that adds no epsilon to the training's.
     */
    evaluation: z
      .object({
        enabled: z.boolean().optional(),
        every: z.number().int().min(1).max(100_000).optional(),
        validationFraction: z.number().gt(0).max(0.5).optional(),
        seed: z
          .number()
          .int()
          .min(0)
          .max(2 ** 31 - 1)
          .optional(),
        /** z of the evaluation's Gaussian (std z x sensitivity per count); default: no extra epsilon */
        noiseMultiplier: positive.max(1e6).optional(),
        /** per-record loss clip for the reported loss (default 5 nats; mse 1) */
        lossClip: positive.max(1e6).optional(),
      })
      .strict()
      .default({}),
    /**
     * Fixed-point encoding of a site's update in local / none modes: clip each value to [-clip, clip], 2^scaleBits.
     * `recordsPerSite` (the records a site is expected to hold) sizes the words from the data and the noise instead
     * (issue 20, docs/federation-spec.md "Modulus"): a narrow SecAgg+ modulus in local and distributed modes. It is
     * public and costs no privacy; a wrong value costs accuracy or bytes only.
     */
    encoding: z
      .object({
        clip: positive.optional(),
        scaleBits: z.number().int().min(0).max(24).optional(),
        recordsPerSite: z.number().int().min(1).max(1_000_000_000).optional(),
      })
      .strict()
      .default({}),
  })
  .strict()
  // only about a minSites the spec sets (`cohort.size: 1` is reported once, at cohort.size, not as a minSites error)
  .refine((s) => s.cohort.minSites === undefined || s.cohort.minSites <= (s.cohort.size ?? Infinity), {
    message: 'cohort.minSites must be <= cohort.size',
    path: ['cohort', 'minSites'],
  })
  .refine(
    (s) => s.local.classWeight === undefined || (s.dataset.kind === 'table' && s.dataset.positiveClass !== undefined),
    { message: 'local.classWeight needs a binary table (dataset.positiveClass)', path: ['local', 'classWeight'] },
  );

/** A spec as written (defaults not yet filled in). */
export type FederationSpecInput = z.input<typeof FederationSpecSchema>;
/** A spec after validation (optional fields still optional: `withFederationDefaults` fills them). */
export type FederationSpec = z.output<typeof FederationSpecSchema>;

/** Concord's tuned defaults, per privacy mode (see docs/benchmarks.md "Federation utility" for the evidence). */
export const FEDERATION_DEFAULTS = Object.freeze({
  mode: 'distributed' as PrivacyMode,
  epsilon: 3,
  delta: 1e-5,
  accountant: 'rdp' as const,
  cohortSize: 10,
  /**
   * MNIST: first-order scattering (J = 2, L = 8), 833 features, then a linear softmax model: Tramer & Boneh 2021's
   * ScatterNet + linear recipe, which makes DP-SGD's few noisy steps count for far more than raw pixels do.
   */
  mnistPreprocessing: { steps: [{ kind: 'scattering' as const, side: 28, scales: 2, orientations: 8 }] },
  /** hidden layers of the default model (none: multinomial logistic regression on the fixed features) */
  hiddenUnits: [] as readonly number[],
  encoding: { clip: 1, scaleBits: 16 },
  local: {
    rounds: 150,
    sampleRate: 0.1,
    clipNorm: 1,
    localSteps: 2,
    learningRate: 1,
    momentum: 0,
    proximalMu: 0,
    server: {
      optimizer: 'fedavgm' as const,
      learningRate: 0.25,
      momentum: 0.9,
      secondMomentDecay: 0.99,
      adaptivity: 1e-3,
    },
  },
  distributed: {
    rounds: 150,
    /** used with an explicit noise multiplier; with a target epsilon the quietest of the candidates is chosen */
    sampleRate: 0.05,
    sampleRateCandidates: [0.01, 0.02, 0.03, 0.05, 0.1] as readonly number[],
    clipNorm: 1,
    scaleBits: 14,
    countWeight: 0.25,
    roundingBeta: 0 as const,
    server: {
      optimizer: 'fedavgm' as const,
      learningRate: 0.2,
      momentum: 0.9,
      secondMomentDecay: 0.99,
      adaptivity: 1e-3,
    },
  },
  none: {
    rounds: 100,
    batchSize: 64,
    localSteps: 5,
    learningRate: 0.5,
    momentum: 0,
    proximalMu: 0,
    server: {
      optimizer: 'fedavgm' as const,
      learningRate: 0.25,
      momentum: 0.9,
      secondMomentDecay: 0.99,
      adaptivity: 1e-3,
    },
  },
  /**
   * Binary tables with schema-driven columns (docs/benchmarks.md "Tabular binary tasks" gives the argument for each
   * value; they depend only on the spec, the schema and the cohort size, never on a site's rows):
   * - local: ONE DP-SGD step per round (several local steps drift towards each site's own label balance under
   *   non-IID splits) and 100 rounds (logistic regression on a few hundred features is convex and converges in
   *   about 100 momentum steps; fewer rounds, less noise per round), at sample rate 0.2 (a site's noise on its
   *   averaged gradient is z C / (q n_s); calibrated at epsilon 1, delta 1e-5, 100 steps, z / q is 43.0 at q 0.1 and
   *   41.4 at 0.2, then flat: 41.1 at 0.3, 40.9 at 0.5, while a step's work grows with q).
   * - distributed and none: the server step is half the heavy-ball stability limit on the worst-case curvature the
   *   schema allows, lr = (1 + momentum) / (L x the sites' step) with L = (columns + 1) / 4 (every encoded row has
   *   at most one non-zero of magnitude <= 1 per column, plus the bias; the logistic loss's second derivative is
   *   <= 1/4) and the sites' step 1 (distributed: one gradient) or localSteps x local rate (none), capped at 1.
   *   Local mode keeps the general server rate: there each site's own noise, not stability, limits the step.
   */
  table: {
    local: { rounds: 100, localSteps: 1, sampleRate: 0.2 },
    maxServerLearningRate: 1,
  },
});

export class FederationSpecError extends ConcordError {
  override readonly code = 'E_FEDERATION_SPEC' as const;
  readonly issues: { path: string; message: string }[];
  constructor(issues: { path: string; message: string }[]) {
    super(
      'E_FEDERATION_SPEC',
      `invalid federation spec: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
    );
    this.name = 'FederationSpecError';
    this.issues = issues;
  }
}

/**
 * Validates a parsed spec (an object from JSON or YAML). Throws FederationSpecError (code E_FEDERATION_SPEC) listing
 * every problem with its path.
 */
export function parseFederationSpec(value: unknown): FederationSpec {
  const result = FederationSpecSchema.safeParse(value);
  if (!result.success) {
    throw new FederationSpecError(
      result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    );
  }
  return result.data;
}
