/** The evaluation vector: layout, sensitivity, metrics and their noise, decoding, receipt terms. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeEvaluationSum,
  evaluationClamp,
  evaluationCoordinateStd,
  evaluationLayout,
  evaluationSensitivity,
  evaluationShapeOf,
  metricsOfEvaluation,
  receiptTermsOfPlan,
  type EvaluationPlan,
  type TrainingPlan,
} from '../src/index.js';

/** a vector from per-record outcomes, as a site builds it */
function vectorOf(
  records: { label: number; predicted: number; loss: number; score?: number }[],
  classes: number,
  bins: number,
  lossClip: number,
) {
  const l = evaluationLayout(classes, bins);
  const v = new Float64Array(l.length);
  for (const r of records) {
    v[l.confusion + r.label * classes + r.predicted] += 1;
    if (r.label === r.predicted) v[l.correct] += 1;
    v[l.lossSum] += Math.min(r.loss, lossClip) / lossClip;
    v[l.count] += 1;
    if (bins > 0) v[l.histogram + r.label * bins + Math.min(bins - 1, Math.floor(r.score! * bins))] += 1;
  }
  return v;
}

describe('evaluation vector', () => {
  it('lays out confusion, correct, loss, count, histogram', () => {
    expect(evaluationLayout(10, 0)).toEqual({
      confusion: 0,
      correct: 100,
      lossSum: 101,
      count: 102,
      histogram: 103,
      length: 103,
    });
    expect(evaluationLayout(2, 20).length).toBe(4 + 3 + 40);
    expect(() => evaluationLayout(-1, 0)).toThrow(RangeError);
    expect(evaluationShapeOf({ loss: 'softmax-cross-entropy', layers: [{ units: 10, activation: 'none' }] })).toEqual({
      classes: 10,
      scoreBins: 0,
    });
    expect(
      evaluationShapeOf({ loss: 'sigmoid-binary-cross-entropy', layers: [{ units: 1, activation: 'none' }] }),
    ).toEqual({ classes: 2, scoreBins: 20 });
  });

  it('one record moves the vector by at most the sensitivity (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1 }),
        fc.integer({ min: 0, max: 1 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (label, predicted, loss, score) => {
          const one = vectorOf([{ label, predicted, loss, score }], 2, 20, 5);
          const norm = Math.sqrt(one.reduce((a, x) => a + x * x, 0));
          return norm <= evaluationSensitivity(20) + 1e-12;
        },
      ),
      { numRuns: 200, seed: 3 },
    );
    expect(evaluationSensitivity(0)).toBe(2);
    expect(evaluationSensitivity(20)).toBe(Math.sqrt(5));
  });

  it('exact metrics: accuracy, clipped mean loss, ROC AUC from the histograms', () => {
    const records = [
      { label: 1, predicted: 1, loss: 0.1, score: 0.93 },
      { label: 1, predicted: 0, loss: 9, score: 0.32 },
      { label: 0, predicted: 0, loss: 0.2, score: 0.11 },
      { label: 0, predicted: 1, loss: 1.5, score: 0.71 },
      { label: 0, predicted: 0, loss: 0.3, score: 0.26 },
    ];
    const m = metricsOfEvaluation(vectorOf(records, 2, 20, 5), { classes: 2, scoreBins: 20, lossClip: 5 }, 0);
    expect(m.records).toBe(5);
    expect(m.accuracy).toBeCloseTo(3 / 5, 12);
    expect(m.loss).toBeCloseTo((0.1 + 5 + 0.2 + 1.5 + 0.3) / 5, 12);
    // AUC by pairs: positives 0.93 beats all 3 negatives; 0.32 beats 0.11 and 0.26 -> 5 of 6
    expect(m.rocAuc).toBeCloseTo(5 / 6, 12);
    expect(m.std).toEqual({ records: 0, accuracy: 0, loss: 0, rocAuc: 0 });
  });

  it('the stated noise std of accuracy and loss matches the delta method', () => {
    const classes = 10;
    const l = evaluationLayout(classes, 0);
    const v = new Float64Array(l.length);
    v[l.correct] = 1200;
    v[l.count] = 1600;
    v[l.lossSum] = 160; // mean loss 0.5 at clip 5
    const sigma = 10;
    const m = metricsOfEvaluation(v, { classes, scoreBins: 0, lossClip: 5 }, sigma);
    const a = 0.75;
    // Var(T/N) ~ sigma^2 (1 + a^2) / N^2
    expect(m.std.accuracy!).toBeGreaterThan(0.9 * ((sigma * Math.sqrt(1 + a * a)) / 1600));
    expect(m.std.accuracy!).toBeLessThan(1.1 * ((sigma * Math.sqrt(1 + a * a)) / 1600));
    const lossStd = (5 * sigma * Math.sqrt(1 + 0.1 * 0.1)) / 1600;
    expect(m.std.loss).toBeGreaterThan(0.9 * lossStd);
    expect(m.std.loss).toBeLessThan(1.1 * lossStd);
    // the same sum always reports the same std (seeded)
    expect(metricsOfEvaluation(v, { classes, scoreBins: 0, lossClip: 5 }, sigma).std).toEqual(m.std);
  });

  it('decodes two-complement words on the grid and bounds the clamp', () => {
    const words = new Uint32Array([256, (-512 >>> 0) as number, 0]);
    expect([...decodeEvaluationSum(words, 8)]).toEqual([1, -2, 0]);
    expect(evaluationClamp(4, 8) * 4 * 2 ** 8).toBe(2 ** 30);
    expect(() => evaluationClamp(0, 8)).toThrow(RangeError);
    expect(evaluationCoordinateStd({ localNoiseVariance: 2 ** 16, scaleBits: 8 }, 4)).toBe(2);
  });
});

describe('receiptTermsOfPlan', () => {
  const e: EvaluationPlan = {
    modelVersion: 3,
    validation: { fraction: 0.2, seed: 0 },
    classes: 10,
    scoreBins: 0,
    lossClip: 5,
    noiseMultiplier: 3,
    sensitivity: 2,
    vectorLength: 103,
    scaleBits: 8,
    clamp: 100,
    localNoiseVariance: 12,
    minNoisyClients: 2,
  };
  const roster = [{}, {}, {}] as TrainingPlan['roster'];
  it('an evaluation plan is charged once at rate 1 with the vector sensitivity, marked evaluation', () => {
    const local = receiptTermsOfPlan({
      privacy: {
        mode: 'local',
        sampleRate: 0.1,
        noiseMultiplier: 1,
        steps: 5,
        clipNorm: 1,
        delta: 1e-5,
        accountant: 'rdp',
      },
      evaluation: e,
      roster,
    });
    expect(local).toEqual({
      mode: 'local',
      sampleRate: 1,
      noiseMultiplier: 3,
      steps: 1,
      clipNorm: 2,
      delta: 1e-5,
      accountant: 'rdp',
      use: 'evaluation',
    });
    expect(receiptTermsOfPlan({ privacy: { mode: 'none', batchSize: 8, steps: 1 }, evaluation: e, roster })).toBeNull();
  });
});
