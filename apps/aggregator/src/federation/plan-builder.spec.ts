import { describe, expect, it } from 'vitest';
import { privacyPhaseOf, updateVectorLength } from '@concord/protocol';
import { buildPlan } from './plan-builder.js';
import { FederationSettingsSchema, secAggShape } from './settings.js';

const settings = FederationSettingsSchema.parse({
  model: { inputSize: 4, layers: [{ units: 2, activation: 'none' }], loss: 'softmax-cross-entropy' },
  rounds: 3,
  cohort: { minSites: 3, maxSites: 10 },
  privacy: {
    mode: 'distributed',
    sampleRate: 0.05,
    noiseMultiplier: 0.8,
    clipNorm: 1,
    delta: 1e-5,
    scaleBits: 10,
    countWeight: 0.25,
  },
  optimization: { learningRate: 1, momentum: 0, proximalMu: 0 },
  server: { optimizer: 'fedavgm', learningRate: 0.2, momentum: 0.9 },
  encoding: { clip: 64, scaleBits: 16 },
  timeouts: { planMs: 1000, stageMs: 1000, trainingMs: 1000 },
});
const roster = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    siteId: `s${i}`,
    identityPublicKey: Buffer.alloc(32, i + 1).toString('base64'),
    lastReceipt: null,
  }));

describe('buildPlan', () => {
  it('sizes each distributed share so that any t - c honest survivors carry the full central noise z C 2^s', () => {
    for (const n of [3, 5, 10, 20]) {
      const plan = buildPlan({
        settings,
        federationId: 'f',
        roundId: 'r',
        roundNumber: 1,
        roster: roster(n),
        parameterCount: 10,
        modelSha256: '0'.repeat(64),
        now: new Date(0),
      });
      if (plan.privacy.mode !== 'distributed') throw new Error('mode');
      const { threshold } = secAggShape(n);
      expect(plan.secagg.threshold).toBe(threshold);
      // c = 1 by default: t - 1 honest shares in any released sum, each sized (z C 2^s)^2 / (t - 1)
      expect(plan.privacy.distributed.minNoisyClients).toBe(threshold - 1);
      expect((threshold - 1) * plan.privacy.distributed.localNoiseVariance).toBeCloseTo((0.8 * 1 * 2 ** 10) ** 2, 6);
      expect(2 * plan.secagg.threshold - (plan.secagg.neighbours + 1)).toBeGreaterThan(1);
      expect(plan.secagg.vectorLength).toBe(updateVectorLength(plan.privacy, 10));
      expect(privacyPhaseOf(plan.privacy)!.mechanism!.dimension).toBe(11);
      expect(2 * plan.secagg.threshold).toBeGreaterThan(plan.secagg.neighbours + 1);
      // the overflow clamp leaves half the 32-bit range for the noise and never binds on a batch's gradient sum
      expect(n * plan.encoding.clip * 2 ** 10).toBeCloseTo(2 ** 30, 0);
    }
  });
  it('derives the SecAgg+ modulus from the clamp, the scale and the noise (issue 20)', () => {
    const build = (o: Partial<typeof settings>, n = 10) =>
      buildPlan({
        settings: { ...settings, ...o },
        federationId: 'f',
        roundId: 'r',
        roundNumber: 1,
        roster: roster(n),
        parameterCount: 10,
        modelSha256: '0'.repeat(64),
        now: new Date(0),
      });
    // no clamp stored: half of 32 bits, as before
    expect(build({}).secagg.modulusBits).toBe(32);
    // a clamp of 16 model units: 10 x 16 x 2^10 = 163,840 plus the noise tail (about 8.7 x sqrt(10 sigma^2))
    const narrow = build({ privacy: { ...settings.privacy, clamp: 16 } as typeof settings.privacy });
    if (narrow.privacy.mode !== 'distributed') throw new Error('mode');
    const sigma2 = narrow.privacy.distributed.localNoiseVariance;
    const bound = 163_840 + Math.sqrt(2 * 10 * sigma2 * Math.log((2 * 11) / 2 ** -40));
    expect(narrow.secagg.modulusBits).toBe(Math.floor(Math.log2(bound)) + 2);
    expect(narrow.secagg.modulusBits).toBeLessThan(21);
    expect(narrow.privacy.distributed.modulusBits).toBe(narrow.secagg.modulusBits);
    expect(narrow.encoding.clip).toBe(16);
    // local/none: n x clip x 2^s, no noise in the words (10 x 64 x 2^16 = 2^25.3)
    const none = build({ privacy: { mode: 'none', batchSize: 8, steps: 1 } });
    expect(none.secagg.modulusBits).toBe(27);
  });
  it('refuses an encoding that could overflow the 32-bit sum', () => {
    const wide = {
      ...settings,
      privacy: { mode: 'none' as const, batchSize: 8, steps: 1 },
      encoding: { clip: 2 ** 12, scaleBits: 16 },
    };
    expect(() =>
      buildPlan({
        settings: wide,
        federationId: 'f',
        roundId: 'r',
        roundNumber: 1,
        roster: roster(10),
        parameterCount: 10,
        modelSha256: '0'.repeat(64),
        now: new Date(0),
      }),
    ).toThrow(RangeError);
  });
  it('settings stored before c was declared (t = 3 for k = 4) get the smallest t that holds 2t-(k+1) > c', () => {
    expect(secAggShape(5, undefined, 3)).toEqual({ neighbours: 4, threshold: 4 });
    expect(secAggShape(5, undefined, 5)).toEqual({ neighbours: 4, threshold: 5 }); // a larger t is kept
    expect(secAggShape(5, undefined, 3, 0)).toEqual({ neighbours: 4, threshold: 3 });
    const plan = buildPlan({
      settings: { ...settings, secaggThreshold: 3 },
      federationId: 'f',
      roundId: 'r',
      roundNumber: 1,
      roster: roster(5),
      parameterCount: 10,
      modelSha256: '0'.repeat(64),
      now: new Date(0),
    });
    if (plan.privacy.mode !== 'distributed') throw new Error('mode');
    expect(plan.secagg).toMatchObject({ neighbours: 4, threshold: 4 });
    expect(plan.privacy.distributed.minNoisyClients).toBe(3);
    expect(() => secAggShape(3, undefined, undefined, 3)).toThrow(
      expect.objectContaining({ code: 'E_COLLUSION_BOUND' }),
    );
  });
});
