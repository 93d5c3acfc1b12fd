/**
 * From a federation spec (what the operator wrote) to the per-round plan (what the aggregator signs and the sites
 * run): defaults filled in from FEDERATION_DEFAULTS, the model checked against the preprocessing, and the noise
 * calibrated so that a site that joins EVERY round ends the federation at exactly the target (epsilon, delta)
 * (calibration.ts). A site that joins fewer rounds spends less; the ledger records what it actually spent.
 */
import { parameterCountOf, preprocessedInputSize, tableInputSize } from './model.js';
import {
  collusionSafeShape,
  DEFAULT_MAX_COLLUDERS,
  FEDERATION_DEFAULTS,
  type FederationModel,
  type FederationSpec,
  type PrivacyMode,
} from '@concord/protocol';
import {
  computeEpsilon,
  distributedShareVariance,
  type AccountantName,
  type DistributedDiscreteGaussian,
} from '@concord/dp';
import { calibrateDistributedNoise, calibrateLocalNoise, distributedPhase } from './calibration.js';
import { FedOptError, type ServerOptimizerConfig } from './optimizers.js';

export type PreprocessPlan = NonNullable<FederationSpec['preprocessing']>;

export interface LocalPrivacyPlan {
  mode: 'local';
  sampleRate: number;
  noiseMultiplier: number;
  /** DP-SGD steps per round at each site */
  localSteps: number;
  clipNorm: number;
  delta: number;
  accountant: AccountantName;
  /** epsilon (nats) of a site that joins every round */
  epsilon: number;
}

export interface DistributedPrivacyPlan {
  mode: 'distributed';
  sampleRate: number;
  /** central multiplier: the sum of any `minNoisyClients` shares has noise std noiseMultiplier x clipNorm */
  noiseMultiplier: number;
  clipNorm: number;
  delta: number;
  accountant: 'rdp';
  epsilon: number;
  scaleBits: number;
  countWeight: number;
  /** 0: sites round their sums with plain randomized rounding (the spec refuses anything else) */
  roundingBeta: 0;
  /** length of the summed vector: parameters + 1 (the noisy count) */
  dimension: number;
  /** t - c: honest shares guaranteed in a released sum (the SecAgg+ threshold less the declared colluders) */
  minNoisyClients: number;
  /** each site's discrete Gaussian variance, integer units: (z C 2^s)^2 / (t - c) (libs/dp distributed-sizing.ts) */
  localNoiseVariance: number;
}

export interface NonPrivatePlan {
  mode: 'none';
  batchSize: number;
  localSteps: number;
}

export interface ResolvedTrainingPlan {
  mode: PrivacyMode;
  rounds: number;
  cohortSize: number;
  minSites: number;
  /** k, t and the declared c, with 2t - (k + 1) > c (libs/protocol collusion.ts) */
  secureAggregation: { threshold: number; neighbours: number; maxColluders: number };
  dataset: FederationSpec['dataset'];
  preprocess: PreprocessPlan;
  model: FederationModel;
  parameterCount: number;
  privacy: LocalPrivacyPlan | DistributedPrivacyPlan | NonPrivatePlan;
  /** the sites' optimizer (local and none modes; distributed mode has no local iterations) */
  local: {
    learningRate: number;
    momentum: number;
    proximalMu: number;
    /** binary tables: positive-class weight before clipping (the spec's public value; default 1, see tableDefaults) */
    classWeight?: number;
  };
  serverOptimizer: Required<ServerOptimizerConfig>;
  encoding: { clip: number; scaleBits: number };
  watermark: boolean;
}

export interface PlanContext {
  /** sites expected per round (default: spec.cohort.size, else FEDERATION_DEFAULTS.cohortSize) */
  cohortSize?: number;
  /**
   * Distributed mode: the exact mechanism the aggregator will charge per round for a central multiplier z, given
   * the plan's clip, threshold and parameter count (e.g. built with @concord/secagg planDdg + ddgMechanism). When
   * given, the noise is calibrated and the epsilon reported against it, so the ledger and the plan agree exactly.
   */
  distributedMechanism?: (o: {
    noiseMultiplier: number;
    clipNorm: number;
    parameterCount: number;
    minNoisyClients: number;
    cohortSize: number;
  }) => DistributedDiscreteGaussian;
}

/**
 * SecAgg+ graph degree k and threshold t for a cohort of n with at most `maxColluders` (c, default 1) colluding
 * members: the complete graph up to 8 sites, then about 2 log2 n neighbours (Bell et al. 2020, Section 3); t the
 * smallest with 2t - (k + 1) > c (libs/protocol collusion.ts). Same rule as the aggregator's default.
 */
export function defaultSecAggShape(
  n: number,
  maxColluders: number = DEFAULT_MAX_COLLUDERS,
): { neighbours: number; threshold: number } {
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`cohort size must be an integer >= 2, got ${n}`);
  return collusionSafeShape(n, maxColluders);
}

/**
 * Distributed mode's default sample rate: among fixed candidates, the one whose calibrated noise is smallest
 * relative to the expected batch, i.e. the smallest z / q (the noise std of the averaged gradient is
 * z C sqrt(n / t) / (q N), and N, n, t, C do not depend on q). The DDG accounting's subsampling bound
 * (Zhu & Wang 2019, Theorem 6) grows like q^3 per round, so a large q that is best at epsilon 8 is ruinous at
 * epsilon 1. Candidates are tried in increasing order. This depends only on public parameters (target, delta,
 * rounds, model size, threshold), never on data.
 */
function quietestSampleRate(
  candidates: readonly number[],
  calibrate: (q: number) => { noiseMultiplier: number },
): number {
  let best = candidates[0];
  let bestRatio = Infinity;
  for (const q of candidates) {
    let ratio = Infinity;
    try {
      ratio = calibrate(q).noiseMultiplier / q;
    } catch (error) {
      if ((error as { code?: string }).code !== 'E_FEDOPT_BUDGET') throw error;
    }
    // A larger q must win clearly (by 5%): near ties go to the smaller rate, which the benchmark found more
    // accurate at equal noise per record, and the choice cannot flip on the accountant's last digits.
    if (ratio < bestRatio * 0.95) {
      best = q;
      bestRatio = ratio;
    }
  }
  if (bestRatio === Infinity) {
    throw new FedOptError('E_FEDOPT_BUDGET', 'the target epsilon is out of reach at every candidate sample rate');
  }
  return best;
}

function defaultModel(spec: FederationSpec, inputSize: number): FederationModel {
  // a binary table (positiveClass): logistic regression, one logit with sigmoid cross-entropy
  if (spec.dataset.kind === 'table' && spec.dataset.positiveClass !== undefined) {
    return { inputSize, layers: [{ units: 1, activation: 'none' }], loss: 'sigmoid-binary-cross-entropy' };
  }
  const classes = spec.dataset.kind === 'mnist' ? 10 : spec.dataset.classes.length;
  return {
    inputSize,
    layers: [
      ...FEDERATION_DEFAULTS.hiddenUnits.map((units) => ({ units, activation: 'relu' as const })),
      { units: classes, activation: 'none' as const },
    ],
    loss: 'softmax-cross-entropy',
  };
}

/**
 * The tabular binary defaults (FEDERATION_DEFAULTS.table, argued there and in docs/benchmarks.md): they apply to a
 * table with schema-driven `columns` and a `positiveClass`, for the fields the spec leaves out. Public inputs only:
 * the mode, the number of declared columns, the default server momentum.
 */
function tableDefaults(
  spec: FederationSpec,
  mode: PrivacyMode,
): { rounds?: number; localSteps?: number; sampleRate?: number; serverLearningRate?: number } {
  const d = spec.dataset;
  if (d.kind !== 'table' || d.columns === undefined || d.positiveClass === undefined) return {};
  const T = FEDERATION_DEFAULTS.table;
  if (mode === 'local') return { ...T.local };
  // Half the heavy-ball stability limit 2 (1 + momentum) / L on the worst-case curvature L = (columns + 1) / 4, per
  // unit of the sites' own step (distributed: one gradient at rate 1; none: localSteps x the local rate).
  const momentum = spec.server.momentum ?? FEDERATION_DEFAULTS[mode].server.momentum;
  const curvature = (d.columns.length + 1) / 4;
  const siteStep =
    mode === 'distributed'
      ? 1
      : (spec.privacy.localSteps ?? FEDERATION_DEFAULTS.none.localSteps) *
        (spec.local.learningRate ?? FEDERATION_DEFAULTS.none.learningRate);
  return { serverLearningRate: Math.min(T.maxServerLearningRate, (1 + momentum) / (curvature * siteStep)) };
}

/**
 * Resolves `spec` (output of parseFederationSpec) into the plan every round uses. Throws TypeError on a
 * non-object, FedOptError E_FEDOPT_SPEC when parts of the spec contradict each other (model size vs
 * preprocessing, threshold above the cohort, countWeight >= clipNorm), E_FEDOPT_BUDGET when the target epsilon is
 * out of reach.
 */
export function resolveTrainingPlan(spec: FederationSpec, context: PlanContext = {}): ResolvedTrainingPlan {
  if (typeof spec !== 'object' || spec === null) throw new TypeError('spec must be a parsed federation spec');
  if (typeof context !== 'object' || context === null) throw new TypeError('context must be an object');
  const D = FEDERATION_DEFAULTS;
  const mode: PrivacyMode = spec.privacy.mode ?? D.mode;
  const modeDefaults = D[mode];
  const cohortSize = context.cohortSize ?? spec.cohort.size ?? D.cohortSize;
  if (!Number.isInteger(cohortSize) || cohortSize < 2) {
    throw new RangeError(`context.cohortSize must be an integer >= 2, got ${cohortSize}`);
  }
  const maxColluders = spec.secureAggregation.maxColluders ?? DEFAULT_MAX_COLLUDERS;
  if (spec.secureAggregation.neighbours !== undefined && spec.secureAggregation.neighbours > cohortSize - 1) {
    throw new FedOptError(
      'E_FEDOPT_SPEC',
      `secureAggregation.neighbours ${spec.secureAggregation.neighbours} exceeds cohort size - 1`,
    );
  }
  let shape: { neighbours: number; threshold: number };
  try {
    shape = collusionSafeShape(cohortSize, maxColluders, {
      neighbours: spec.secureAggregation.neighbours,
      threshold: spec.secureAggregation.threshold,
    });
  } catch (error) {
    throw new FedOptError('E_FEDOPT_SPEC', `secureAggregation: ${(error as Error).message}`);
  }
  const { neighbours, threshold } = shape;
  /** t - c: the honest shares in every released sum (distributed noise is sized and accounted for them) */
  const honestShares = threshold - maxColluders;
  const minSites = spec.cohort.minSites ?? Math.max(2, threshold);

  const rawInput = spec.dataset.kind === 'mnist' ? 28 * 28 : tableInputSize(spec.dataset);
  const preprocess: PreprocessPlan =
    spec.preprocessing ?? (spec.dataset.kind === 'mnist' ? structuredClone(D.mnistPreprocessing) : { steps: [] });
  const inputSize = preprocessedInputSize(preprocess, rawInput);
  const model = spec.model ?? defaultModel(spec, inputSize);
  if (model.inputSize !== inputSize) {
    throw new FedOptError(
      'E_FEDOPT_SPEC',
      `model.inputSize ${model.inputSize} does not match the ${inputSize} features left after preprocessing`,
    );
  }
  const parameterCount = parameterCountOf(model);
  const table = tableDefaults(spec, mode);
  const rounds = spec.rounds ?? table.rounds ?? modeDefaults.rounds;
  const server: Required<ServerOptimizerConfig> = {
    name: spec.server.optimizer ?? modeDefaults.server.optimizer,
    learningRate: spec.server.learningRate ?? table.serverLearningRate ?? modeDefaults.server.learningRate,
    momentum: spec.server.momentum ?? modeDefaults.server.momentum,
    secondMomentDecay: spec.server.secondMomentDecay ?? modeDefaults.server.secondMomentDecay,
    adaptivity: spec.server.adaptivity ?? modeDefaults.server.adaptivity,
  };
  const localDefaults = mode === 'distributed' ? D.local : D[mode];
  const local = {
    learningRate: spec.local.learningRate ?? localDefaults.learningRate,
    momentum: spec.local.momentum ?? localDefaults.momentum,
    proximalMu: spec.local.proximalMu ?? localDefaults.proximalMu,
    // the default is 1, i.e. absent from the plan (docs/benchmarks.md "Tabular binary tasks": weighting by the
    // public prior's odds, its square root or 0.5 did not improve ROC AUC at epsilon 1; most gradients are clipped,
    // and a weight before clipping does not move a clipped gradient)
    ...(spec.local.classWeight !== undefined && spec.local.classWeight !== 1
      ? { classWeight: spec.local.classWeight }
      : {}),
  };
  const encoding = {
    clip: spec.encoding.clip ?? D.encoding.clip,
    scaleBits: spec.encoding.scaleBits ?? D.encoding.scaleBits,
  };
  const p = spec.privacy;
  let privacy: ResolvedTrainingPlan['privacy'];
  if (mode === 'none') {
    privacy = { mode, batchSize: p.batchSize ?? D.none.batchSize, localSteps: p.localSteps ?? D.none.localSteps };
  } else {
    const delta = p.delta ?? D.delta;
    const accountant = p.accountant ?? D.accountant;
    const target = p.noiseMultiplier === undefined ? (p.epsilon ?? D.epsilon) : undefined;
    if (mode === 'local') {
      const sampleRate = p.sampleRate ?? table.sampleRate ?? D.local.sampleRate;
      const localSteps = p.localSteps ?? table.localSteps ?? D.local.localSteps;
      const clipNorm = p.clipNorm ?? D.local.clipNorm;
      const { noiseMultiplier, epsilon } =
        target === undefined
          ? {
              noiseMultiplier: p.noiseMultiplier!,
              epsilon: computeEpsilon(
                [{ sampleRate, noiseMultiplier: p.noiseMultiplier!, steps: rounds * localSteps }],
                delta,
                { accountant },
              ).epsilon,
            }
          : calibrateLocalNoise({ targetEpsilon: target, delta, sampleRate, localSteps, rounds, accountant });
      privacy = { mode, sampleRate, noiseMultiplier, localSteps, clipNorm, delta, accountant, epsilon };
    } else {
      if (accountant !== 'rdp') {
        throw new FedOptError(
          'E_FEDOPT_SPEC',
          "distributed mode is accounted with 'rdp' only (no PRV analysis of DDG)",
        );
      }
      const clipNorm = p.clipNorm ?? D.distributed.clipNorm;
      const countWeight = p.countWeight ?? Math.min(D.distributed.countWeight, clipNorm / 2);
      if (countWeight >= clipNorm) {
        throw new FedOptError('E_FEDOPT_SPEC', 'privacy.countWeight must be below privacy.clipNorm');
      }
      const mechanismFor = context.distributedMechanism
        ? (z: number) =>
            context.distributedMechanism!({
              noiseMultiplier: z,
              clipNorm,
              parameterCount,
              minNoisyClients: honestShares,
              cohortSize,
            })
        : undefined;
      const mechanism = {
        clipNorm,
        scaleBits: p.scaleBits ?? D.distributed.scaleBits,
        dimension: parameterCount + 1,
        minNoisyClients: honestShares,
        roundingBeta: p.roundingBeta ?? D.distributed.roundingBeta,
      };
      const sampleRate =
        p.sampleRate ??
        (target === undefined
          ? D.distributed.sampleRate
          : quietestSampleRate(D.distributed.sampleRateCandidates, (q) =>
              calibrateDistributedNoise({
                targetEpsilon: target,
                delta,
                sampleRate: q,
                rounds,
                mechanism,
                mechanismFor,
              }),
            ));
      const phaseAt = (z: number) =>
        mechanismFor
          ? { sampleRate, noiseMultiplier: z, steps: rounds, mechanism: mechanismFor(z) }
          : distributedPhase(sampleRate, z, rounds, mechanism);
      const { noiseMultiplier, epsilon } =
        target === undefined
          ? {
              noiseMultiplier: p.noiseMultiplier!,
              epsilon: computeEpsilon([phaseAt(p.noiseMultiplier!)], delta, { accountant: 'rdp' }).epsilon,
            }
          : calibrateDistributedNoise({ targetEpsilon: target, delta, sampleRate, rounds, mechanism, mechanismFor });
      privacy = {
        mode,
        sampleRate,
        noiseMultiplier,
        clipNorm,
        delta,
        accountant: 'rdp',
        epsilon,
        scaleBits: mechanism.scaleBits,
        countWeight,
        roundingBeta: mechanism.roundingBeta,
        dimension: mechanism.dimension,
        minNoisyClients: honestShares,
        localNoiseVariance: distributedShareVariance({
          noiseMultiplier,
          clipNorm,
          scaleBits: mechanism.scaleBits,
          threshold,
          maxColluders,
        }),
      };
    }
  }
  return {
    mode,
    rounds,
    cohortSize,
    minSites,
    secureAggregation: { threshold, neighbours, maxColluders },
    dataset: spec.dataset,
    preprocess,
    model,
    parameterCount,
    privacy,
    local,
    serverOptimizer: server,
    encoding,
    watermark: spec.watermark.enabled,
  };
}
