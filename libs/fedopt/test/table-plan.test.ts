import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FEDERATION_DEFAULTS, FederationSpecError, parseFederationSpec } from '@concord/protocol';
import { initializeTableModel, parseFederationSpecText, resolveTrainingPlan } from '../src/index.js';

const example = (name: string) =>
  parseFederationSpecText(readFileSync(new URL(`../../../examples/${name}.yaml`, import.meta.url), 'utf8'));

describe('binary tables with schema-driven columns', () => {
  it('default to sigmoid logistic regression over the encoded width', () => {
    const plan = resolveTrainingPlan(example('adult'));
    expect(plan.model).toEqual({
      inputSize: 121,
      layers: [{ units: 1, activation: 'none' }],
      loss: 'sigmoid-binary-cross-entropy',
    });
    expect(plan.parameterCount).toBe(122);
  });

  it('local mode: one DP-SGD step per round, 100 rounds, unless the spec says otherwise', () => {
    const spec = example('adult');
    const local = resolveTrainingPlan({ ...spec, privacy: { ...spec.privacy, mode: 'local' } });
    expect(local.rounds).toBe(FEDERATION_DEFAULTS.table.local.rounds);
    expect(local.privacy).toMatchObject({ mode: 'local', localSteps: 1, sampleRate: 0.2 });
    const explicit = resolveTrainingPlan({
      ...spec,
      rounds: 20,
      privacy: { ...spec.privacy, mode: 'local', localSteps: 3 },
    });
    expect(explicit.rounds).toBe(20);
    expect(explicit.privacy).toMatchObject({ localSteps: 3 });
  });

  it('distributed mode: server step (1 + momentum) / L with L = (columns + 1) / 4, capped at 1', () => {
    expect(resolveTrainingPlan(example('adult')).serverOptimizer.learningRate).toBeCloseTo(1.9 / (15 / 4), 12);
    expect(resolveTrainingPlan(example('mammography')).serverOptimizer.learningRate).toBe(1);
    const spec = example('adult');
    expect(resolveTrainingPlan({ ...spec, server: { learningRate: 0.3 } }).serverOptimizer.learningRate).toBe(0.3);
    expect(resolveTrainingPlan({ ...spec, server: { momentum: 0.5 } }).serverOptimizer.learningRate).toBeCloseTo(
      1.5 / (15 / 4),
      12,
    );
  });

  it("mode none: the same limit per unit of the sites' step (localSteps x local rate)", () => {
    const spec = example('adult');
    const none = (extra: object) =>
      resolveTrainingPlan({ ...spec, ...extra, privacy: { mode: 'none', ...(extra as { privacy?: object }).privacy } });
    expect(none({}).serverOptimizer.learningRate).toBeCloseTo(1.9 / ((15 / 4) * 5 * 0.5), 12);
    expect(none({ privacy: { localSteps: 2 } }).serverOptimizer.learningRate).toBeCloseTo(
      1.9 / ((15 / 4) * 2 * 0.5),
      12,
    );
    const mammography = example('mammography');
    const plan = resolveTrainingPlan({ ...mammography, privacy: { mode: 'none' } });
    expect(plan.serverOptimizer.learningRate).toBeCloseTo(1.9 / ((7 / 4) * 2.5), 12);
    // local mode keeps the general server rate
    expect(resolveTrainingPlan({ ...spec, privacy: { mode: 'local' } }).serverOptimizer.learningRate).toBe(
      FEDERATION_DEFAULTS.local.server.learningRate,
    );
  });

  it('leave numeric featureColumns tables and multi-class tables on the general defaults', () => {
    const legacy = parseFederationSpec({
      dataset: { kind: 'table', featureColumns: ['a', 'b'], labelColumn: 'y', classes: ['n', 'p'], positiveClass: 'p' },
      privacy: { mode: 'local', epsilon: 3 },
    });
    const plan = resolveTrainingPlan(legacy);
    expect(plan.rounds).toBe(FEDERATION_DEFAULTS.local.rounds);
    expect(plan.model.loss).toBe('sigmoid-binary-cross-entropy');
    expect(plan.model.inputSize).toBe(2);
  });
});

describe('initializeTableModel', () => {
  it('starts logistic regression at zero with the logit of the public prior as bias', () => {
    const spec = example('mammography');
    const plan = resolveTrainingPlan(spec);
    const weights = new Float32Array(7).fill(0.3);
    expect(initializeTableModel(spec.dataset, plan.model, weights)).toBe(true);
    const p = 260 / 11_183;
    expect(Array.from(weights.subarray(0, 6))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(weights[6]).toBeCloseTo(Math.log(p / (1 - p)), 4); // the example rounds the prior to 0.02325
  });

  it("keeps an MLP's drawn weights (symmetry) but still sets the output bias; leaves other specs alone", () => {
    const spec = example('mammography');
    const mlp = {
      inputSize: 6,
      layers: [
        { units: 4, activation: 'relu' as const },
        { units: 1, activation: 'none' as const },
      ],
      loss: 'sigmoid-binary-cross-entropy' as const,
    };
    const weights = new Float32Array(6 * 4 + 4 + 4 + 1).fill(0.3);
    expect(initializeTableModel(spec.dataset, mlp, weights)).toBe(true);
    expect(weights[0]).toBeCloseTo(0.3, 6);
    expect(weights.at(-1)).toBeLessThan(-3);
    const mnist = parseFederationSpec({ dataset: { kind: 'mnist' } });
    const other = new Float32Array(7).fill(0.3);
    expect(initializeTableModel(mnist.dataset, resolveTrainingPlan(spec).model, other)).toBe(false);
    expect(other[0]).toBeCloseTo(0.3, 6);
    expect(() => initializeTableModel(spec.dataset, mlp, new Float32Array(3))).toThrow(RangeError);
  });
});

describe('local.classWeight (positive-class weight before clipping)', () => {
  const binary = { kind: 'table', labelColumn: 'y', classes: ['n', 'p'], featureColumns: ['a'], positiveClass: 'p' };
  it('reaches the plan when set; the default (and 1) leaves it out of the plan, i.e. unweighted', () => {
    const weighted = parseFederationSpec({ dataset: binary, local: { classWeight: 3 } });
    expect(resolveTrainingPlan(weighted).local.classWeight).toBe(3);
    expect(resolveTrainingPlan(parseFederationSpec({ dataset: binary })).local.classWeight).toBeUndefined();
    const one = parseFederationSpec({ dataset: binary, local: { classWeight: 1 } });
    expect(resolveTrainingPlan(one).local.classWeight).toBeUndefined();
  });
  it.each([0, -2, 1e6, Infinity, NaN, '3'])('refuses classWeight %s', (classWeight) => {
    expect(() => parseFederationSpec({ dataset: binary, local: { classWeight } })).toThrow(FederationSpecError);
    expect(() => parseFederationSpec({ dataset: binary, local: { classWeight } })).toThrow(/local.classWeight/);
  });
  it('refuses a class weight without a binary table', () => {
    const multi = { ...binary, positiveClass: undefined };
    for (const dataset of [multi, { kind: 'mnist' }])
      expect(() => parseFederationSpec({ dataset, local: { classWeight: 2 } })).toThrow(
        /local.classWeight needs a binary table/,
      );
  });
});

describe('the spec refuses inconsistent table schemas', () => {
  const base = { kind: 'table', labelColumn: 'y', classes: ['n', 'p'] };
  it.each([
    [{ ...base }, /featureColumns .* or columns/],
    [{ ...base, featureColumns: ['a'], columns: [{ name: 'b', type: 'numeric', min: 0, max: 1 }] }, /not both/],
    [{ ...base, columns: [{ name: 'a', type: 'numeric', min: 1, max: 0 }] }, /min must be below max/],
    [{ ...base, columns: [{ name: 'a', type: 'categorical', values: ['x', 'x'] }] }, /values must be distinct/],
    [{ ...base, columns: [{ name: 'a', type: 'categorical', values: ['x'], missing: ['x'] }] }, /missing token/],
    [{ ...base, columns: [{ name: 'y', type: 'numeric', min: 0, max: 1 }] }, /labelColumn must not be a feature/],
    [{ ...base, featureColumns: ['a'], positiveClass: 'q' }, /positiveClass must be one of the classes/],
    [{ ...base, featureColumns: ['a'], classPrior: 0.2 }, /classPrior needs positiveClass/],
    [{ ...base, featureColumns: ['a'], positiveClass: 'p', classPrior: 1 }, /dataset.classPrior/],
  ])('%j', (dataset, message) => {
    expect(() => parseFederationSpec({ dataset })).toThrow(FederationSpecError);
    expect(() => parseFederationSpec({ dataset })).toThrow(message);
  });
});
