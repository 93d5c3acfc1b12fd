import { describe, expect, it } from 'vitest';
import { modulusBitsFor } from '@concord/protocol';
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

  describe('encoding.recordsPerSite (issue 20: serve sizes the words like simulate)', () => {
    const mnist = (privacy: Record<string, unknown>, encoding?: Record<string, unknown>) => ({
      dataset: { kind: 'mnist' },
      privacy: { epsilon: 3, delta: 1e-5, ...privacy },
      ...(encoding ? { encoding } : {}),
    });
    const bitsAt10 = (clamp: number, scaleBits: number) =>
      modulusBitsFor({ cohortSize: 10, clamp, scaleBits, dimension: 8_000 });

    it('local: a grid and clip from the noise, so 10 sites sum in far fewer than the stored 21 bits', () => {
      const stored = settingsFromSpec(mnist({ mode: 'local' })).settings;
      const sized = settingsFromSpec(mnist({ mode: 'local' }, { recordsPerSite: 800 })).settings;
      expect(stored.encoding).toEqual({ clip: 1, scaleBits: 16 });
      expect(bitsAt10(stored.encoding.clip, stored.encoding.scaleBits)).toBe(21);
      expect(sized.encoding.scaleBits).toBeLessThan(16);
      expect(bitsAt10(sized.encoding.clip, sized.encoding.scaleBits)).toBeLessThanOrEqual(10);
    });

    it('distributed: a clamp from the expected batch instead of none', () => {
      const stored = settingsFromSpec(mnist({ mode: 'distributed' })).settings;
      const sized = settingsFromSpec(mnist({ mode: 'distributed' }, { recordsPerSite: 800 })).settings;
      if (stored.privacy.mode !== 'distributed' || sized.privacy.mode !== 'distributed') throw new Error('mode');
      expect(stored.privacy.clamp).toBeUndefined();
      const { sampleRate: q, countWeight: w } = sized.privacy;
      expect(sized.privacy.clamp).toBeCloseTo(w * (q * 800 + 6 * Math.sqrt(q * 800) + 1), 9);
    });

    it('keeps an explicit clip or scale, and refuses a count that is not a positive integer', () => {
      const kept = settingsFromSpec(mnist({ mode: 'local' }, { recordsPerSite: 800, clip: 0.5 })).settings;
      expect(kept.encoding).toEqual({ clip: 0.5, scaleBits: 16 });
      for (const bad of [0, -3, 2.5, '800']) {
        expect(() => settingsFromSpec(mnist({ mode: 'local' }, { recordsPerSite: bad }))).toThrow(
          expect.objectContaining({ code: 'E_FEDERATION_SPEC' }),
        );
      }
    });
  });
});
