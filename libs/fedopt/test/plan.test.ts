import { readFileSync } from 'node:fs';
import { computeEpsilon, calibrateNoiseMultiplier } from '@concord/dp';
import { FEDERATION_DEFAULTS, parseFederationSpec } from '@concord/protocol';
import { ddgMechanism, planDdg } from '@concord/secagg';
import { describe, expect, it } from 'vitest';
import {
  calibrateDistributedNoise,
  defaultSecAggShape,
  distributedPhase,
  parameterCountOf,
  parseFederationSpecText,
  resolveTrainingPlan,
} from '../src/index.js';

const mnist = (extra: Record<string, unknown> = {}) => parseFederationSpec({ dataset: { kind: 'mnist' }, ...extra });

describe('resolveTrainingPlan', () => {
  it('local mode: the whole history (rounds x local steps) reaches the target epsilon, as libs/dp calibrates it', () => {
    const plan = resolveTrainingPlan(
      mnist({ privacy: { mode: 'local', epsilon: 3, delta: 1e-5, sampleRate: 0.1, localSteps: 4 }, rounds: 25 }),
    );
    if (plan.privacy.mode !== 'local') throw new Error('mode');
    const direct = calibrateNoiseMultiplier({ targetEpsilon: 3, sampleRate: 0.1, steps: 100, delta: 1e-5 });
    expect(plan.privacy.noiseMultiplier).toBe(direct.noiseMultiplier);
    const spent = computeEpsilon(
      [{ sampleRate: 0.1, noiseMultiplier: plan.privacy.noiseMultiplier, steps: 100 }],
      1e-5,
    );
    expect(spent.epsilon).toBeLessThanOrEqual(3);
    expect(spent.epsilon).toBeGreaterThan(2.95);
  });

  it('distributed mode: the DDG history of all rounds is within the target and tight', () => {
    const plan = resolveTrainingPlan(mnist({ privacy: { mode: 'distributed', epsilon: 3 }, rounds: 50 }), {
      cohortSize: 10,
    });
    if (plan.privacy.mode !== 'distributed') throw new Error('mode');
    const { threshold } = defaultSecAggShape(10);
    // t - c honest shares (c = 1 by default): the noise is sized and accounted for them
    const honest = threshold - plan.secureAggregation.maxColluders;
    expect(plan.secureAggregation.maxColluders).toBe(1);
    expect(plan.privacy.minNoisyClients).toBe(honest);
    expect(plan.privacy.dimension).toBe(plan.parameterCount + 1);
    const mechanism = {
      clipNorm: plan.privacy.clipNorm,
      scaleBits: plan.privacy.scaleBits,
      dimension: plan.privacy.dimension,
      minNoisyClients: honest,
      roundingBeta: plan.privacy.roundingBeta,
    };
    const at = (z: number) =>
      computeEpsilon([distributedPhase(plan.privacy.sampleRate, z, 50, mechanism)], 1e-5).epsilon;
    expect(at(plan.privacy.noiseMultiplier)).toBeLessThanOrEqual(3);
    expect(at(plan.privacy.noiseMultiplier * 0.99)).toBeGreaterThan(3);
    // the shares: (z C 2^s)^2 / (t - c) integer units each
    const central = plan.privacy.noiseMultiplier * plan.privacy.clipNorm * 2 ** plan.privacy.scaleBits;
    expect(plan.privacy.localNoiseVariance * honest).toBeCloseTo(central * central, 6);
  });

  it('distributed default sample rate: the candidate with the least noise per expected record (z / q)', () => {
    const plan = resolveTrainingPlan(mnist({ privacy: { mode: 'distributed', epsilon: 1 }, rounds: 100 }));
    if (plan.privacy.mode !== 'distributed') throw new Error('mode');
    const mechanism = {
      clipNorm: plan.privacy.clipNorm,
      scaleBits: plan.privacy.scaleBits,
      dimension: plan.privacy.dimension,
      minNoisyClients: plan.privacy.minNoisyClients,
      roundingBeta: plan.privacy.roundingBeta,
    };
    const ratio = (q: number) =>
      calibrateDistributedNoise({ targetEpsilon: 1, delta: 1e-5, sampleRate: q, rounds: 100, mechanism })
        .noiseMultiplier / q;
    const chosen = ratio(plan.privacy.sampleRate);
    for (const q of FEDERATION_DEFAULTS.distributed.sampleRateCandidates) {
      // no candidate is more than 5% quieter than the chosen one
      expect(chosen * 0.95).toBeLessThanOrEqual(ratio(q));
    }
    const pinned = resolveTrainingPlan(mnist({ privacy: { mode: 'distributed', epsilon: 1, sampleRate: 0.07 } }));
    expect(pinned.privacy.mode === 'distributed' && pinned.privacy.sampleRate).toBe(0.07);
  });

  it("distributed: plain randomized rounding is accounted with one record's sensitivity C 2^s + sqrt(d), not doubled", () => {
    const base = { clipNorm: 1, scaleBits: 14, dimension: 8_000, minNoisyClients: 6, roundingBeta: 0 };
    const o = { targetEpsilon: 3, delta: 1e-5, sampleRate: 0.05, rounds: 100 };
    const plain = calibrateDistributedNoise({ ...o, mechanism: base });
    const perContribution = calibrateDistributedNoise({
      ...o,
      mechanism: base,
      mechanismFor: (z) => ({ ...distributedPhase(o.sampleRate, z, 1, base).mechanism!, neighbouring: 'contribution' }),
    });
    expect(plain.noiseMultiplier).toBe(perContribution.noiseMultiplier);
    // conditional rounding of a record inside a sum would double it: the noise multiplier about doubles
    const conditional = calibrateDistributedNoise({
      ...o,
      mechanism: base,
      mechanismFor: (z) => ({ ...distributedPhase(o.sampleRate, z, 1, base).mechanism!, roundingBias: 1e-300 }),
    });
    expect(conditional.noiseMultiplier / plain.noiseMultiplier).toBeGreaterThan(1.9);
  });

  it('refuses a conditional rounding bias in the spec (sites round their sum with plain randomized rounding)', () => {
    expect(() =>
      resolveTrainingPlan(mnist({ privacy: { mode: 'distributed', epsilon: 3, roundingBeta: 0.5 as 0 } })),
    ).toThrow(/roundingBeta must be 0/);
  });

  it('calibrates against the exact mechanism the protocol charges (libs/secagg planDdg), when given', () => {
    const rotationSeed = new Uint8Array(32);
    const distributedMechanism = (o: {
      noiseMultiplier: number;
      clipNorm: number;
      parameterCount: number;
      minNoisyClients: number;
      cohortSize: number;
    }) =>
      ddgMechanism(
        planDdg({
          dimension: o.parameterCount,
          clients: o.cohortSize,
          minClients: o.minNoisyClients,
          l2Clip: o.clipNorm,
          noiseMultiplier: o.noiseMultiplier,
          rotationSeed,
        }),
      );
    const spec = mnist({ privacy: { mode: 'distributed', epsilon: 3 }, rounds: 40 });
    const exact = resolveTrainingPlan(spec, { cohortSize: 10, distributedMechanism });
    if (exact.privacy.mode !== 'distributed') throw new Error('mode');
    const m = distributedMechanism({
      noiseMultiplier: exact.privacy.noiseMultiplier,
      clipNorm: exact.privacy.clipNorm,
      parameterCount: exact.parameterCount,
      minNoisyClients: exact.privacy.minNoisyClients,
      cohortSize: 10,
    });
    const charged = computeEpsilon(
      [
        {
          sampleRate: exact.privacy.sampleRate,
          noiseMultiplier: exact.privacy.noiseMultiplier,
          steps: 40,
          mechanism: m,
        },
      ],
      1e-5,
    ).epsilon;
    expect(charged).toBeLessThanOrEqual(3);
    expect(charged).toBeCloseTo(exact.privacy.epsilon, 12);
    // planDdg rounds conditionally (beta > 0), so a record inside the contribution costs twice the sensitivity of
    // the protocol's plain randomized rounding (libs/dp ddg.ts): about twice the noise for the same epsilon
    const plain = resolveTrainingPlan(spec, { cohortSize: 10 });
    const ratio = exact.privacy.noiseMultiplier / (plain.privacy as { noiseMultiplier: number }).noiseMultiplier;
    expect(ratio).toBeGreaterThan(1.8);
    expect(ratio).toBeLessThan(2.2);
  });

  it('distributed noise is at least the Gaussian one (rounding inflates sensitivity) and grows with rounds', () => {
    const mechanism = { clipNorm: 1, scaleBits: 10, dimension: 10_000, minNoisyClients: 6, roundingBeta: 0 };
    const short = calibrateDistributedNoise({ targetEpsilon: 3, delta: 1e-5, sampleRate: 0.05, rounds: 50, mechanism });
    const long = calibrateDistributedNoise({ targetEpsilon: 3, delta: 1e-5, sampleRate: 0.05, rounds: 200, mechanism });
    const gaussian = calibrateNoiseMultiplier({ targetEpsilon: 3, sampleRate: 0.05, steps: 50, delta: 1e-5 });
    expect(short.noiseMultiplier).toBeGreaterThanOrEqual(gaussian.noiseMultiplier * 0.99);
    expect(long.noiseMultiplier).toBeGreaterThan(short.noiseMultiplier);
  });

  it('an explicit noise multiplier is kept and its epsilon reported', () => {
    const plan = resolveTrainingPlan(
      mnist({ privacy: { mode: 'local', noiseMultiplier: 2, sampleRate: 0.05, localSteps: 10 }, rounds: 10 }),
    );
    if (plan.privacy.mode !== 'local') throw new Error('mode');
    expect(plan.privacy.noiseMultiplier).toBe(2);
    const e = computeEpsilon([{ sampleRate: 0.05, noiseMultiplier: 2, steps: 100 }], 1e-5).epsilon;
    expect(plan.privacy.epsilon).toBeCloseTo(e, 12);
  });

  it('fills the defaults: a model sized to the preprocessing, a SecAgg shape for the cohort', () => {
    const plan = resolveTrainingPlan(mnist());
    expect(plan.model.inputSize).toBeGreaterThan(0);
    expect(plan.model.layers.at(-1)!.units).toBe(10);
    expect(plan.parameterCount).toBe(parameterCountOf(plan.model));
    expect(plan.secureAggregation).toEqual({ ...defaultSecAggShape(plan.cohortSize), maxColluders: 1 });
    const { neighbours: k, threshold: t } = plan.secureAggregation;
    expect(2 * t - (k + 1)).toBeGreaterThan(1);
    expect(plan.mode).toBe('distributed');
  });

  it('table datasets: input size = feature columns, outputs = classes', () => {
    const plan = resolveTrainingPlan(
      parseFederationSpec({
        dataset: { kind: 'table', featureColumns: ['a', 'b', 'c'], labelColumn: 'y', classes: ['no', 'yes'] },
        privacy: { mode: 'none' },
      }),
    );
    expect(plan.model.inputSize).toBe(3);
    expect(plan.model.layers.at(-1)!.units).toBe(2);
  });

  it('rejects contradictions with coded errors', () => {
    expect(() =>
      resolveTrainingPlan(
        mnist({ model: { inputSize: 5, layers: [{ units: 10, activation: 'none' }], loss: 'softmax-cross-entropy' } }),
      ),
    ).toThrow(expect.objectContaining({ code: 'E_FEDOPT_SPEC' }));
    expect(() => resolveTrainingPlan(mnist({ secureAggregation: { threshold: 9, neighbours: 3 } }))).toThrow(
      expect.objectContaining({ code: 'E_FEDOPT_SPEC' }),
    );
    expect(() => resolveTrainingPlan(mnist({ privacy: { mode: 'distributed', clipNorm: 1, countWeight: 1 } }))).toThrow(
      expect.objectContaining({ code: 'E_FEDOPT_SPEC' }),
    );
    expect(() => resolveTrainingPlan(mnist({ privacy: { mode: 'distributed', accountant: 'prv' } }))).toThrow(
      expect.objectContaining({ code: 'E_FEDOPT_SPEC' }),
    );
    expect(() =>
      resolveTrainingPlan(mnist({ privacy: { mode: 'local', epsilon: 1e-9, sampleRate: 1, localSteps: 100 } })),
    ).toThrow(expect.objectContaining({ code: 'E_FEDOPT_BUDGET' }));
    expect(() => resolveTrainingPlan(mnist(), { cohortSize: 1 })).toThrow(RangeError);
    expect(() => resolveTrainingPlan(null as never)).toThrow(TypeError);
  });
});

describe('federation spec text', () => {
  it('reads examples/mnist.yaml and its JSON equivalent identically', () => {
    const yaml = readFileSync(new URL('../../../examples/mnist.yaml', import.meta.url), 'utf8');
    const spec = parseFederationSpecText(yaml);
    expect(spec.dataset.kind).toBe('mnist');
    expect(parseFederationSpecText(JSON.stringify(spec))).toEqual(spec);
    expect(() => resolveTrainingPlan(spec)).not.toThrow();
  });

  it('rejects unknown fields, both epsilon and noise, and unreadable text with E_FEDERATION_SPEC', () => {
    expect(() => parseFederationSpecText('dataset: {kind: mnist}\nroundz: 3')).toThrow(
      expect.objectContaining({ code: 'E_FEDERATION_SPEC' }),
    );
    expect(() => parseFederationSpecText('dataset: {kind: mnist}\nprivacy: {epsilon: 3, noiseMultiplier: 1}')).toThrow(
      /not both/,
    );
    expect(() => parseFederationSpecText('dataset: [unclosed')).toThrow(
      expect.objectContaining({ code: 'E_FEDERATION_SPEC' }),
    );
    expect(() => parseFederationSpecText(3 as unknown as string)).toThrow(TypeError);
  });
});
