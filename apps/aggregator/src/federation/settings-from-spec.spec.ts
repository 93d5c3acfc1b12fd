import { describe, expect, it } from 'vitest';
import { settingsFromSpec } from './settings-from-spec.js';

const table = (extra: Record<string, unknown> = {}) => ({
  dataset: { kind: 'table', featureColumns: ['a', 'b'], labelColumn: 'y', classes: ['n', 'p'] },
  model: { inputSize: 2, layers: [{ units: 2, activation: 'none' }], loss: 'softmax-cross-entropy' },
  privacy: { mode: 'local', epsilon: 3, delta: 1e-5 },
  ...extra,
});

describe('settingsFromSpec', () => {
  it('refuses a model too narrow for the owner watermark, naming the field and the way out', () => {
    expect(() => settingsFromSpec(table())).toThrow(
      expect.objectContaining({
        code: 'E_FEDERATION_SPEC',
        issues: [
          expect.objectContaining({
            path: 'watermark.enabled',
            message: expect.stringMatching(/256 bits.*342 inputs/),
          }),
        ],
      }),
    );
  });

  it('accepts it with the watermark disabled, and the default MNIST model with it enabled', () => {
    expect(settingsFromSpec(table({ watermark: { enabled: false } })).settings.model.inputSize).toBe(2);
    expect(settingsFromSpec({ dataset: { kind: 'mnist' } }).settings.model.inputSize).toBeGreaterThanOrEqual(342);
  });

  it('refuses a conditional rounding bias for distributed mode', () => {
    expect(() =>
      settingsFromSpec({ dataset: { kind: 'mnist' }, privacy: { mode: 'distributed', epsilon: 3, roundingBeta: 0.2 } }),
    ).toThrow(/roundingBeta must be 0/);
  });

  it('refuses at creation a minSites above the cohort size (it would wait forever), naming the field', () => {
    expect(() => settingsFromSpec({ dataset: { kind: 'mnist' }, cohort: { minSites: 12 } })).toThrow(
      expect.objectContaining({
        code: 'E_FEDERATION_SPEC',
        issues: [{ path: 'cohort.minSites', message: expect.stringMatching(/12 exceeds the cohort size 10/) }],
      }),
    );
    expect(settingsFromSpec({ dataset: { kind: 'mnist' }, cohort: { minSites: 10 } }).settings.cohort).toEqual({
      minSites: 10,
      maxSites: 10,
    });
  });

  it('reports cohort.size: 1 once, at cohort.size (no minSites error for a minSites nobody set)', () => {
    expect(() => settingsFromSpec({ dataset: { kind: 'mnist' }, cohort: { size: 1 } })).toThrow(
      expect.objectContaining({ issues: [expect.objectContaining({ path: 'cohort.size' })] }),
    );
    expect(() => settingsFromSpec({ dataset: { kind: 'mnist' }, cohort: { size: 4, minSites: 5 } })).toThrow(
      expect.objectContaining({ issues: [expect.objectContaining({ path: 'cohort.minSites' })] }),
    );
  });

  it("carries a binary table's public class weight into the stored plan settings (absent by default)", () => {
    const binary = {
      dataset: { kind: 'table', featureColumns: ['a', 'b'], labelColumn: 'y', classes: ['n', 'p'], positiveClass: 'p' },
      privacy: { mode: 'local', epsilon: 3, delta: 1e-5 },
      watermark: { enabled: false },
    };
    expect(settingsFromSpec({ ...binary, local: { classWeight: 2.5 } }).settings.optimization.classWeight).toBe(2.5);
    expect(settingsFromSpec(binary).settings.optimization.classWeight).toBeUndefined();
  });
});
