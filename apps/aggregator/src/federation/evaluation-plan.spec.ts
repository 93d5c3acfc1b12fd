import { computeEpsilon } from '@concord/dp';
import { describe, expect, it } from 'vitest';
import { defaultEvaluationNoise, evaluationCount, isEvaluationDue } from './evaluation-plan.js';
import { evaluationSettingsOf } from './evaluation-settings.js';
import { settingsFromSpec } from './settings-from-spec.js';
import { nextRoundPhase } from './stages/budget.js';

describe('evaluation schedule', () => {
  it('evaluates every `every`-th version and the last', () => {
    const settings = { rounds: 7, evaluation: { every: 3 } } as never;
    expect([1, 2, 3, 4, 5, 6, 7].filter((v) => isEvaluationDue(settings, v))).toEqual([3, 6, 7]);
    expect(evaluationCount(7, 3)).toBe(3);
    expect(evaluationCount(6, 3)).toBe(2);
    expect(isEvaluationDue({ rounds: 7 } as never, 7)).toBe(false);
  });
});

describe('default evaluation noise', () => {
  for (const mode of ['local', 'distributed'] as const) {
    it(`${mode}: the planned evaluations add no epsilon, and a quieter evaluation would`, () => {
      const { settings } = settingsFromSpec({ dataset: { kind: 'mnist' }, privacy: { mode }, rounds: 30 });
      const e = settings.evaluation!;
      expect(e.validation).toEqual({ fraction: 0.2, seed: 0 });
      expect(e.every).toBe(10);
      const n = settings.cohort.maxSites;
      const p = 833 * 10 + 10;
      const train = nextRoundPhase(settings, n, p)!;
      const evaluate = (z: number) =>
        nextRoundPhase({ ...settings, evaluation: { ...e, noiseMultiplier: z } }, n, p, true)!;
      const history = (z: number) => [
        { ...train, steps: train.steps * 30 },
        { ...evaluate(z), steps: 3 },
      ];
      const alone = computeEpsilon([{ ...train, steps: train.steps * 30 }], 1e-5).epsilon;
      expect(computeEpsilon(history(e.noiseMultiplier), 1e-5).epsilon).toBeLessThanOrEqual(alone * (1 + 1e-9));
      expect(computeEpsilon(history(e.noiseMultiplier * 0.9), 1e-5).epsilon).toBeGreaterThan(alone);
      expect(evaluate(1)).toMatchObject({ sampleRate: 1, steps: 1, use: 'evaluation' });
    });
  }

  it('mode none evaluates without noise; a spec may turn evaluation off or set its noise', () => {
    const none = settingsFromSpec({ dataset: { kind: 'mnist' }, privacy: { mode: 'none' }, rounds: 4 }).settings;
    expect(none.evaluation).toMatchObject({ noiseMultiplier: 0, every: 2 });
    const off = settingsFromSpec({ dataset: { kind: 'mnist' }, evaluation: { enabled: false } }).settings;
    expect(off.evaluation).toBeUndefined();
    expect(evaluationSettingsOf(off, { noiseMultiplier: 7, every: 5 })).toMatchObject({ noiseMultiplier: 7, every: 5 });
  });

  it('the search is bounded and monotone', () => {
    const z = defaultEvaluationNoise({
      rounds: 10,
      evaluations: 2,
      delta: 1e-5,
      accountant: 'rdp',
      trainingRound: { sampleRate: 0.1, noiseMultiplier: 1, steps: 1 },
      evaluationRound: (noiseMultiplier) => ({ sampleRate: 1, noiseMultiplier, steps: 1 }),
    });
    expect(z).toBeGreaterThan(1);
    expect(z).toBeLessThan(100);
  });
});
