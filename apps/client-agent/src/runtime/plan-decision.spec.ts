import { describe, expect, it } from 'vitest';
import type { PrivacyTerms, TrainingPlan } from '@concord/protocol';
import type { BudgetView } from '../services/budget/budget-guard.js';
import { decidePlan } from './plan-decision.js';
import { PlanRefusal } from './plan-check.js';

const TERMS: PrivacyTerms = { mode: 'local', accountant: 'rdp', delta: 1e-5, clipNorm: 1 };
const BINARY = { inputSize: 3, layers: [{ units: 1, activation: 'none' }], loss: 'sigmoid-binary-cross-entropy' };
const SOFTMAX = { inputSize: 3, layers: [{ units: 2, activation: 'none' }], loss: 'softmax-cross-entropy' };

const budget: BudgetView = {
  cap: { epsilon: 10, delta: 1e-5 },
  accountant: 'rdp',
  check: () => ({ fits: true, epsilonBefore: 0, epsilonAfter: 0.5 }),
  lastChargedRound: () => 0,
};

/** A local-mode plan for a roster of 3 (k = 2, t = 2), with `classWeight` in optimization unless undefined. */
function planWith(classWeight: unknown, spec: object = BINARY, mode: 'local' | 'none' = 'local'): TrainingPlan {
  const parameterCount = spec === BINARY ? 4 : 8;
  return {
    version: 1,
    federationId: 'f',
    roundId: 'r',
    roundNumber: 1,
    issuedAt: new Date(0).toISOString(),
    expiresAt: new Date(1).toISOString(),
    model: { spec, parameterCount, sha256: '0'.repeat(64) },
    privacy:
      mode === 'local'
        ? { mode, sampleRate: 0.1, noiseMultiplier: 2, steps: 1, clipNorm: 1, delta: 1e-5, accountant: 'rdp' }
        : { mode, batchSize: 8, steps: 2 },
    optimization: {
      learningRate: 1,
      momentum: 0,
      proximalMu: 0,
      ...(classWeight === undefined ? {} : { classWeight }),
    },
    encoding: { clip: 1, scaleBits: 16 },
    // 3 sites x ceil(1 x 2^16) = 196,608 < 2^18: 18 bits of magnitude and a sign bit
    secagg: { threshold: 2, neighbours: 2, vectorLength: parameterCount, modulusBits: 19 },
    roster: ['a', 'b', 'c'].map((siteId, i) => ({
      siteId,
      identityPublicKey: String.fromCharCode(65 + i).repeat(43) + '=',
      lastReceipt: null,
    })),
  } as unknown as TrainingPlan;
}

const decide = (plan: TrainingPlan, terms: PrivacyTerms = TERMS) => decidePlan(plan, { siteId: 'a', terms }, budget);

function refusalOf(f: () => unknown): PlanRefusal {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PlanRefusal);
    return e as PlanRefusal;
  }
  throw new Error('the plan was accepted');
}

describe('decidePlan: the class weight', () => {
  it('is executed exactly as planned (absent = 1), in every mode, and leaves the charge unchanged', () => {
    const plain = decide(planWith(undefined));
    expect(plain.execution.classWeight).toBe(1);
    const weighted = decide(planWith(3.18));
    expect(weighted.execution.classWeight).toBe(3.18);
    expect(weighted.phase).toEqual(plain.phase); // weighting before clipping: same sensitivity, same charge
    expect(decide(planWith(0.5, BINARY, 'none'), { mode: 'none' }).execution.classWeight).toBe(0.5);
    expect(decide(planWith(1, SOFTMAX)).execution.classWeight).toBe(1); // 1 is "no weight" on any model
  });

  it.each([0, -1, NaN, Infinity, 1e6, '2', null])('refuses classWeight %s (E_UNSUPPORTED_PLAN)', (w) => {
    expect(refusalOf(() => decide(planWith(w))).code).toBe('E_UNSUPPORTED_PLAN');
  });

  it('refuses a class weight on a model that is not one sigmoid output', () => {
    const refusal = refusalOf(() => decide(planWith(2, SOFTMAX)));
    expect(refusal.code).toBe('E_UNSUPPORTED_PLAN');
    expect(refusal.message).toMatch(/binary model/);
    const twoSigmoids = { ...BINARY, layers: [{ units: 2, activation: 'none' }] };
    expect(refusalOf(() => decide(planWith(2, twoSigmoids))).code).toBe('E_UNSUPPORTED_PLAN');
  });
});

describe('decidePlan: the SecAgg+ modulus (issue 20)', () => {
  it('accepts exactly the derived modulus, in local and none modes', () => {
    expect(decide(planWith(undefined)).execution.mode).toBe('local');
    expect(decide(planWith(undefined, BINARY, 'none'), { mode: 'none' }).execution.mode).toBe('none');
  });

  it('refuses a narrower or wider modulus than the sum needs (E_PLAN_DERIVED)', () => {
    for (const bits of [18, 20, 32]) {
      for (const mode of ['local', 'none'] as const) {
        const plan = planWith(undefined, BINARY, mode);
        plan.secagg.modulusBits = bits;
        const terms: PrivacyTerms = mode === 'none' ? { mode } : TERMS;
        const refusal = refusalOf(() => decide(plan, terms));
        expect(refusal.code).toBe('E_PLAN_DERIVED');
        expect(refusal.message).toContain(`modulusBits is ${bits}`);
      }
    }
  });

  it('re-derives the modulus from the clamp: a wider clip needs the bits it asks for', () => {
    const plan = planWith(undefined);
    plan.encoding = { clip: 4, scaleBits: 16 }; // 3 x 2^18 < 2^20: 21 bits
    expect(refusalOf(() => decide(plan)).code).toBe('E_PLAN_DERIVED');
    plan.secagg.modulusBits = 21;
    expect(decide(plan).execution.mode).toBe('local');
  });

  it('refuses a clamp whose sum cannot fit 32 bits at all', () => {
    const plan = planWith(undefined);
    plan.encoding = { clip: 2 ** 15, scaleBits: 16 }; // 3 x 2^31 > 2^32
    plan.secagg.modulusBits = 32;
    const refusal = refusalOf(() => decide(plan));
    expect(refusal.code).toBe('E_PLAN_DERIVED');
    expect(refusal.message).toContain('more than 32');
  });
});
