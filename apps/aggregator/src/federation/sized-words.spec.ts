import { describe, expect, it } from 'vitest';
import { FederationSettingsSchema } from './settings.js';
import { sizeWordsFromData } from './sized-words.js';

const base = {
  model: { inputSize: 4, layers: [{ units: 2, activation: 'none' }], loss: 'softmax-cross-entropy' },
  rounds: 3,
  cohort: { minSites: 3, maxSites: 10 },
  optimization: { learningRate: 1, momentum: 0, proximalMu: 0 },
  server: { optimizer: 'fedavgm', learningRate: 0.2, momentum: 0.9 },
  encoding: { clip: 1, scaleBits: 16 },
  timeouts: { planMs: 1000, stageMs: 1000, trainingMs: 1000 },
};
const local = FederationSettingsSchema.parse({
  ...base,
  privacy: { mode: 'local', sampleRate: 0.1, noiseMultiplier: 1, steps: 2, clipNorm: 1, delta: 1e-5 },
});
const distributed = FederationSettingsSchema.parse({
  ...base,
  privacy: {
    mode: 'distributed',
    sampleRate: 0.05,
    noiseMultiplier: 1,
    clipNorm: 1,
    delta: 1e-5,
    scaleBits: 14,
    countWeight: 0.25,
  },
});

describe('sizeWordsFromData (issue 20)', () => {
  it('local: a grid of at most a quarter of the delta noise std and a clip of 3 std, from the records per site', () => {
    const sigma = (1 * 1 * 1 * Math.sqrt(2)) / (0.1 * 800); // lr z C sqrt(steps) / (q N)
    const { encoding } = sizeWordsFromData(local, 800, {});
    expect(2 ** -encoding.scaleBits).toBeLessThanOrEqual(sigma / 4);
    expect(2 ** -encoding.scaleBits).toBeGreaterThan(sigma / 8);
    expect(encoding.clip).toBeLessThanOrEqual(3 * sigma);
    expect(encoding.clip).toBeGreaterThan(3 * sigma - 2 ** -encoding.scaleBits);
    expect(Number.isInteger(encoding.clip * 2 ** encoding.scaleBits)).toBe(true);
  });
  it('distributed: the clamp covers the count coordinate of a batch six std above the expected Poisson batch', () => {
    const sized = sizeWordsFromData(distributed, 800, {});
    if (sized.privacy.mode !== 'distributed') throw new Error('mode');
    expect(sized.privacy.clamp).toBeCloseTo(0.25 * (40 + 6 * Math.sqrt(40) + 1), 9);
  });
  it('keeps what the spec or the stored settings set, and mode none', () => {
    expect(sizeWordsFromData(local, 800, { encoding: { clip: 1 } }).encoding).toEqual({ clip: 1, scaleBits: 16 });
    const clamped = { ...distributed, privacy: { ...distributed.privacy, clamp: 5 } } as typeof distributed;
    expect(sizeWordsFromData(clamped, 800, {})).toEqual(clamped);
    const none = FederationSettingsSchema.parse({ ...base, privacy: { mode: 'none', batchSize: 8, steps: 1 } });
    expect(sizeWordsFromData(none, 800, {})).toEqual(none);
  });
});
