/**
 * The site's one decision on a verified plan (signature, expiry, weights: plan-check.ts): refuse it with a code, or
 * accept it and fix, in ONE object, what the agent will execute (what trainAndEncode passes to the native facade)
 * and what it charges. The aggregator may be compromised (docs/threat-model.md): nothing that sizes the site's noise
 * or its charge is taken from the plan on faith. The agent
 *
 * - compares the plan's privacy terms with those it pinned at enrollment (mode, delta, accountant, clip norm; `none`
 *   is refused for a site enrolled in a DP federation);
 * - checks the round order against its own ledger (a round number at or below the last it charged is refused)
 *   and the roster (no site or key twice);
 * - checks the SecAgg+ shape against the roster (k <= n - 1, even or n - 1; 2 <= t <= k + 1) and the collusion
 *   bound 2t - (k + 1) > c with the c it pinned (libs/protocol collusion.ts);
 * - RECOMPUTES every derived field from pinned terms and checkable plan fields: cohortSize = roster length,
 *   minNoisyClients = t - c, localNoiseVariance = (z C 2^s)^2 / (t - c) (libs/dp distributed-sizing.ts), dimension
 *   = parameters + 1, the SecAgg+ modulus bits from roster size, clamp, scale and noise (libs/protocol
 *   events/modulus.ts); a plan whose fields differ is refused;
 * - derives the charge (libs/dp Phase) from the execution object, never from the plan a second time, so the
 *   sample rate, steps and noise the site runs are exactly those it pays for.
 */
import type { Phase } from '@concord/dp';
import { distributedShareVariance } from '@concord/dp';
import {
  collusionMargin,
  distributedGradientClip,
  MAX_MODULUS_BITS,
  planModulusBits,
  receiptTermsOfPlan,
  type PrivacyTerms,
  type TrainingPlan,
} from '@concord/protocol';
import type { BudgetView } from '../services/budget/budget-guard.js';
import { chargeOfEvaluation, evaluationExecutionOf, type EvaluationExecution } from './evaluation-decision.js';
import { PlanRefusal } from './plan-check.js';

/** Refusal codes of the plan decision (each a PlanRefusal code). */
export const PLAN_REFUSAL_CODES = [
  'E_TERMS_MODE',
  'E_TERMS_DELTA',
  'E_TERMS_ACCOUNTANT',
  'E_TERMS_CLIP',
  'E_ROUND_ORDER',
  'E_ROSTER_DUPLICATE',
  'E_SECAGG_SHAPE',
  'E_COLLUSION_BOUND',
  'E_PLAN_DERIVED',
  'E_UNSUPPORTED_PLAN',
  'E_CAP_EXCEEDED',
  'E_TERMS_VALIDATION',
] as const;

/** Exactly what the site runs in a round: the arguments of the native trainer and of the site-sum encoder. */
/** Exactly what the site runs for a training plan (an evaluation plan: EvaluationExecution). */
export type TrainingExecution =
  | {
      mode: 'none';
      steps: number;
      batchSize: number;
      learningRate: number;
      momentum: number;
      proximalMu: number;
      /** positive-class loss-gradient weight before clipping (1: none); checked by checkClassWeight */
      classWeight: number;
      encoding: { clip: number; scaleBits: number };
    }
  | {
      mode: 'local';
      sampleRate: number;
      noiseMultiplier: number;
      steps: number;
      clipNorm: number;
      learningRate: number;
      momentum: number;
      proximalMu: number;
      classWeight: number;
      encoding: { clip: number; scaleBits: number };
    }
  | {
      mode: 'distributed';
      /** one Poisson sample at this rate, per-example gradients clipped to gradientClip, summed, no noise */
      sampleRate: number;
      gradientClip: number;
      countWeight: number;
      /** record L2 bound C (gradient and count coordinate together): what the charge is computed for */
      clipNorm: number;
      /** central multiplier z the round is charged for */
      noiseMultiplier: number;
      scaleBits: number;
      clamp: number;
      /** this site's discrete Gaussian variance, recomputed here: (z C 2^s)^2 / (t - c) */
      localNoiseVariance: number;
      /** t - c: honest shares guaranteed in a released sum */
      honestShares: number;
      dimension: number;
      classWeight: number;
    };

export type Execution = TrainingExecution | EvaluationExecution;

export interface PlanDecision {
  execution: Execution;
  /** the charge, derived from `execution` by {@link chargeOf} (null in mode none) */
  phase: Phase | null;
  /** the receipt's signed terms (receiptTermsOf the plan, whose fields all equal the execution's) */
  receiptTerms: ReturnType<typeof receiptTermsOfPlan>;
  epsilonBefore: number;
  epsilonAfter: number;
}

/** The charge of one execution, in @concord/dp's Phase shape: the only place a charge is computed. */
export function chargeOf(execution: Execution): Phase | null {
  if (execution.mode === 'evaluation') return chargeOfEvaluation(execution);
  if (execution.mode === 'none') return null;
  if (execution.mode === 'local') {
    return { sampleRate: execution.sampleRate, noiseMultiplier: execution.noiseMultiplier, steps: execution.steps };
  }
  return {
    sampleRate: execution.sampleRate,
    noiseMultiplier: execution.noiseMultiplier,
    steps: 1,
    mechanism: {
      kind: 'distributed-discrete-gaussian',
      l2Clip: execution.clipNorm,
      granularity: 2 ** -execution.scaleBits,
      dimension: execution.dimension,
      roundingBias: 0,
      localSigma: Math.sqrt(execution.localNoiseVariance),
      minClients: execution.honestShares,
    },
  };
}

const refuse = (code: (typeof PLAN_REFUSAL_CODES)[number], message: string): never => {
  throw new PlanRefusal(code, message);
};

/**
 * Decides on `plan` (already verified by verifyPlanMessage) for the site enrolled as `enrollment`, whose budget
 * guard is `budget`. Returns the execution and its charge, or throws PlanRefusal with one of PLAN_REFUSAL_CODES.
 * Pure apart from reading the budget guard.
 */
export function decidePlan(
  plan: TrainingPlan,
  enrollment: { siteId: string; terms: PrivacyTerms },
  budget: BudgetView,
): PlanDecision {
  const { terms } = enrollment;
  const privacy = plan.privacy;

  // 1. Pinned terms, before anything is computed.
  if (privacy.mode !== terms.mode) {
    refuse('E_TERMS_MODE', `plan mode ${privacy.mode} differs from the pinned mode ${terms.mode}`);
  }
  if (terms.mode !== 'none') {
    if (budget.accountant !== terms.accountant) {
      refuse('E_TERMS_ACCOUNTANT', `the site composes with ${budget.accountant}, pinned ${terms.accountant}`);
    }
    const p = privacy as Exclude<typeof privacy, { mode: 'none' }>;
    if (p.accountant !== terms.accountant) {
      refuse(
        'E_TERMS_ACCOUNTANT',
        `plan accountant ${String(p.accountant)} differs from the pinned ${terms.accountant}`,
      );
    }
    if (p.delta !== terms.delta)
      refuse('E_TERMS_DELTA', `plan delta ${p.delta} differs from the pinned ${terms.delta}`);
    if (p.clipNorm !== terms.clipNorm) {
      refuse('E_TERMS_CLIP', `plan clip norm ${p.clipNorm} differs from the pinned ${terms.clipNorm}`);
    }
  }

  // 2. Round order and roster.
  const last = budget.lastChargedRound();
  if (plan.roundNumber <= last) {
    refuse('E_ROUND_ORDER', `round ${plan.roundNumber} is not after the last round this site charged (${last})`);
  }
  const ids = new Set(plan.roster.map((m) => m.siteId));
  const keys = new Set(plan.roster.map((m) => m.identityPublicKey));
  if (ids.size !== plan.roster.length || keys.size !== plan.roster.length) {
    refuse('E_ROSTER_DUPLICATE', 'the roster lists a site or an identity key twice');
  }

  // 3. SecAgg+ shape against the roster, and the collusion bound with the pinned c.
  const n = plan.roster.length;
  const { neighbours: k, threshold: t } = plan.secagg;
  if (k > n - 1 || (k !== n - 1 && k % 2 !== 0) || t < 2 || t > k + 1 || 2 * t <= k + 1) {
    refuse('E_SECAGG_SHAPE', `SecAgg+ shape k=${k}, t=${t} is not valid for a roster of ${n}`);
  }
  if (terms.mode === 'distributed' && collusionMargin(k, t) <= terms.maxColluders) {
    refuse(
      'E_COLLUSION_BOUND',
      `2t-(k+1) = ${collusionMargin(k, t)} colluders could unmask this site; the pinned bound is c = ${terms.maxColluders}`,
    );
  }

  // 4. The execution, with every derived field recomputed.
  const execution = plan.evaluation ? evaluationExecutionOf(plan, terms, refuse) : executionOf(plan, terms, n);
  const phase = chargeOf(execution);
  let epsilonBefore = 0;
  let epsilonAfter = 0;
  if (phase) {
    const check = budget.check(phase);
    ({ epsilonBefore, epsilonAfter } = check);
    if (!check.fits) {
      refuse('E_CAP_EXCEEDED', `plan would spend epsilon ${check.epsilonAfter.toFixed(3)} > cap ${budget.cap.epsilon}`);
    }
  }
  return { execution, phase, receiptTerms: receiptTermsOfPlan(plan), epsilonBefore, epsilonAfter };
}

/**
 * The plan's class weight, executed exactly as written or refused: a finite number in (0, 1e6), and anything but 1
 * only on a single sigmoid output (a binary table). It multiplies a positive example's gradient BEFORE clipping, so
 * it changes neither the sensitivity C nor the charge; absent means 1.
 */
export function checkClassWeight(plan: Pick<TrainingPlan, 'model' | 'optimization'>): number {
  const planned: unknown = plan.optimization.classWeight;
  const w = planned === undefined ? 1 : planned; // absent only: null is refused like any other non-number
  if (typeof w !== 'number' || !Number.isFinite(w) || !(w > 0 && w < 1e6)) {
    refuse('E_UNSUPPORTED_PLAN', `optimization.classWeight ${String(w)} is not a finite number in (0, 1e6)`);
  }
  const spec = plan.model.spec;
  const last = spec.layers[spec.layers.length - 1];
  if (w !== 1 && (spec.loss !== 'sigmoid-binary-cross-entropy' || last?.units !== 1)) {
    refuse('E_UNSUPPORTED_PLAN', 'optimization.classWeight needs a binary model (one sigmoid output)');
  }
  return w as number;
}

/**
 * The SecAgg+ modulus 2^b, recomputed from the roster size, the clamp, the scale and the noise (libs/protocol
 * events/modulus.ts): a narrower modulus than the sum needs would wrap it, a wider one only costs bytes, and
 * either way a plan that disagrees with the derivation is refused. Returns b.
 */
function checkModulus(plan: TrainingPlan): number {
  const derived = planModulusBits(plan);
  if (derived > MAX_MODULUS_BITS) refuse('E_PLAN_DERIVED', `the sum needs ${derived} bits, more than 32`);
  if (plan.secagg.modulusBits !== derived) {
    refuse('E_PLAN_DERIVED', `secagg.modulusBits is ${plan.secagg.modulusBits}, the site derives ${derived}`);
  }
  return derived;
}

function executionOf(plan: TrainingPlan, terms: PrivacyTerms, n: number): TrainingExecution {
  const { privacy, encoding } = plan;
  const optimization = { ...plan.optimization, classWeight: checkClassWeight(plan) };
  if (privacy.mode !== 'distributed') checkModulus(plan);
  if (privacy.mode === 'none') {
    return { mode: 'none', steps: privacy.steps, batchSize: privacy.batchSize, ...optimization, encoding };
  }
  if (privacy.mode === 'local') {
    return {
      mode: 'local',
      sampleRate: privacy.sampleRate,
      noiseMultiplier: privacy.noiseMultiplier,
      steps: privacy.steps,
      clipNorm: privacy.clipNorm,
      ...optimization,
      encoding,
    };
  }
  if (terms.mode !== 'distributed') throw new Error('unreachable: mode checked against the pinned terms');
  const d = privacy.distributed;
  if (d.roundingBeta !== 0) {
    refuse('E_UNSUPPORTED_PLAN', 'distributed plans must use plain randomized rounding (roundingBeta 0)');
  }
  if (d.countWeight >= privacy.clipNorm) refuse('E_UNSUPPORTED_PLAN', 'countWeight must be below the clip norm');
  const t = plan.secagg.threshold;
  const c = terms.maxColluders;
  const expect = (field: string, planned: number, derived: number) => {
    if (planned !== derived) {
      refuse('E_PLAN_DERIVED', `privacy.distributed.${field} is ${planned}, the site derives ${derived}`);
    }
  };
  const localNoiseVariance = distributedShareVariance({
    noiseMultiplier: privacy.noiseMultiplier,
    clipNorm: privacy.clipNorm,
    scaleBits: d.scaleBits,
    threshold: t,
    maxColluders: c,
  });
  expect('cohortSize', d.cohortSize, n);
  expect('minNoisyClients', d.minNoisyClients, t - c);
  expect('dimension', d.dimension, plan.model.parameterCount + 1);
  expect('localNoiseVariance', d.localNoiseVariance, localNoiseVariance);
  if (plan.secagg.vectorLength !== d.dimension) {
    refuse('E_PLAN_DERIVED', `secagg.vectorLength ${plan.secagg.vectorLength} differs from the dimension`);
  }
  if (!(encoding.clip * 2 ** d.scaleBits < 2 ** 31)) refuse('E_PLAN_DERIVED', 'encoding.clip overflows 32 bits');
  // after localNoiseVariance is checked: the modulus is derived from the noise this site itself adds
  expect('modulusBits', d.modulusBits, checkModulus(plan));
  return {
    mode: 'distributed',
    sampleRate: privacy.sampleRate,
    gradientClip: distributedGradientClip(privacy),
    countWeight: d.countWeight,
    clipNorm: privacy.clipNorm,
    noiseMultiplier: privacy.noiseMultiplier,
    scaleBits: d.scaleBits,
    clamp: encoding.clip,
    localNoiseVariance,
    honestShares: t - c,
    dimension: d.dimension,
    classWeight: optimization.classWeight,
  };
}
