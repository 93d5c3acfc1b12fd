/**
 * Property (issue 15): for every plan a site accepts, among random perturbations of a valid plan by a rogue
 * aggregator, the sample rate, steps and noise ACTUALLY passed to the native facade (observed by spies on
 * @concord/native, not by the function that computes the charge) cost, recomputed independently with libs/dp from
 * those observations and the pinned terms, exactly what the site's ledger was charged. Real agents, real SecAgg+,
 * the real native trainer under the spies.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as realNative from '@concord/native';
import { computeEpsilon, type Phase } from '@concord/dp';
import type { PrivacyReceipt, TrainingPlan } from '@concord/protocol';
import { DISTRIBUTED_TERMS, LOCAL_TERMS, RogueAggregator } from './harness.js';

vi.mock('@concord/native', async (importOriginal) => {
  const real = await importOriginal<typeof realNative>();
  return {
    ...real,
    trainLocal: vi.fn(real.trainLocal),
    discreteGaussian: vi.fn(real.discreteGaussian),
    quantize: vi.fn(real.quantize),
  };
});

const native = realNative as unknown as {
  trainLocal: ReturnType<typeof vi.fn>;
  discreteGaussian: ReturnType<typeof vi.fn>;
  quantize: ReturnType<typeof vi.fn>;
};

type Mutable = Record<string, unknown>;

/** The receipt's charge rebuilt here from its fields (the aggregator's audit reads the same fields). */
function phaseOfReceipt(r: PrivacyReceipt): Phase {
  const base = { sampleRate: r.sampleRate, noiseMultiplier: r.noiseMultiplier, steps: r.steps };
  if (!r.distributed) return base;
  return {
    ...base,
    mechanism: {
      kind: 'distributed-discrete-gaussian',
      l2Clip: r.clipNorm,
      granularity: 1 / r.distributed.granularity,
      dimension: r.distributed.dimension,
      roundingBias: r.distributed.roundingBeta,
      localSigma: Math.sqrt(r.distributed.localNoiseVariance),
      minClients: r.distributed.minNoisyClients,
    },
  };
}

/** undefined four times in five, else a value of `arb` */
const rare = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: arb, weight: 1 });

/** A random perturbation of `plan`: each field kept, or replaced, independently. */
const perturbation = fc.record({
  // free parameters: charged as they are
  sampleRate: fc.option(fc.double({ min: 0.05, max: 1, noNaN: true }), { nil: undefined }),
  noiseMultiplier: fc.option(fc.double({ min: 0.5, max: 4, noNaN: true }), { nil: undefined }),
  steps: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  scaleBits: fc.option(fc.integer({ min: 6, max: 12 }), { nil: undefined }),
  /** recompute the derived fields for the new numbers (as an honest aggregator would), or leave them stale */
  resize: fc.constantFrom(true, true, true, false),
  // pinned or derived: rarely perturbed (nil 4 times in 5), mostly refused when they are
  threshold: rare(fc.integer({ min: 2, max: 3 })),
  minNoisyClients: rare(fc.integer({ min: 1, max: 5 })),
  varianceFactor: rare(fc.constantFrom(0.5, 1.000001, 2)),
  delta: rare(fc.constantFrom(1e-5, 1e-6)),
  clipNorm: rare(fc.constantFrom(1, 0.5)),
});

function perturb(plan: TrainingPlan, p: fc.RecordValue<typeof perturbation>, c: number): TrainingPlan {
  const out = structuredClone(plan);
  const privacy = out.privacy as Mutable;
  if (p.sampleRate !== undefined) privacy.sampleRate = p.sampleRate;
  if (p.noiseMultiplier !== undefined) privacy.noiseMultiplier = p.noiseMultiplier;
  if (p.delta !== undefined) privacy.delta = p.delta;
  if (p.clipNorm !== undefined) privacy.clipNorm = p.clipNorm;
  if (p.threshold !== undefined) out.secagg.threshold = p.threshold;
  if (out.privacy.mode === 'local') {
    if (p.steps !== undefined) privacy.steps = p.steps;
    return out;
  }
  const d = privacy.distributed as Mutable;
  if (p.scaleBits !== undefined) d.scaleBits = p.scaleBits;
  if (p.resize) {
    const std = (privacy.noiseMultiplier as number) * (privacy.clipNorm as number) * 2 ** (d.scaleBits as number);
    d.localNoiseVariance = (std * std) / (out.secagg.threshold - c);
    d.minNoisyClients = out.secagg.threshold - c;
  }
  if (p.minNoisyClients !== undefined) d.minNoisyClients = p.minNoisyClients;
  if (p.varianceFactor !== undefined) d.localNoiseVariance = (d.localNoiseVariance as number) * p.varianceFactor;
  out.encoding = {
    ...out.encoding,
    scaleBits: d.scaleBits as number,
    clip: 2 ** 31 / (2 * 3 * 2 ** (d.scaleBits as number)),
  };
  return out;
}

describe.each([
  ['distributed', DISTRIBUTED_TERMS],
  ['local', LOCAL_TERMS],
] as const)('charge property, %s mode', (_mode, terms) => {
  let rogue: RogueAggregator;
  beforeAll(() => {
    rogue = new RogueAggregator(3, terms, { cap: { epsilon: 1e6, delta: 1e-5 } });
  });
  afterAll(() => rogue?.close());

  it('every accepted plan is charged exactly what the facade was asked to run', async () => {
    let accepted = 0;
    const refusals: string[] = [];
    await fc.assert(
      fc.asyncProperty(perturbation, async (p) => {
        const c = terms.mode === 'distributed' ? terms.maxColluders : 0;
        const plan = perturb(rogue.validPlan(), p, c);
        const target = rogue.sites[0];
        const ledgerBefore = rogue.ledgerBytes(target);
        // training starts as soon as a plan is accepted: clear the spies before sending it
        native.trainLocal.mockClear();
        native.discreteGaussian.mockClear();
        native.quantize.mockClear();
        const replies = await Promise.all(rogue.sites.map((s) => rogue.ask(s, 'round:plan', rogue.sign(plan))));
        if ((replies[0] as { ok: boolean }).ok !== true) {
          refusals.push((replies[0] as { code: string }).code);
          expect(rogue.ledgerBytes(target)).toBe(ledgerBefore);
          for (const s of rogue.sites) s.runtime.connectionLost();
          return;
        }
        accepted++;
        const out = await rogue.runRound(plan);
        expect(out.status).toBe('done');
        const entry = target.budget.history.at(-1)!;
        expect(entry.roundNumber).toBe(plan.roundNumber);

        // what the facade was asked to run, for the target site (its data identifies its call)
        const call = native.trainLocal.mock.calls.find((args) => args[0].features === target.data.features)!;
        const o = call[0] as {
          steps: number;
          privacy: { sampleRate: number; noiseMultiplier: number; clipNorm: number };
        };
        let observed: Phase;
        if (terms.mode === 'local') {
          expect(o.privacy.clipNorm).toBe(terms.clipNorm);
          observed = { sampleRate: o.privacy.sampleRate, noiseMultiplier: o.privacy.noiseMultiplier, steps: o.steps };
        } else {
          // the gradient and the count coordinate share the pinned record bound C
          expect(o.privacy.noiseMultiplier).toBe(0);
          expect(o.privacy.clipNorm).toBeLessThan(terms.clipNorm);
          const noise = native.discreteGaussian.mock.calls;
          expect(noise).toHaveLength(3);
          const [count, variance] = noise[0] as [number, number];
          for (const args of noise) expect(args.slice(0, 2)).toEqual([count, variance]);
          const scaleBits = (native.quantize.mock.calls[0][1] as { scaleBits: number }).scaleBits;
          observed = {
            sampleRate: o.privacy.sampleRate,
            noiseMultiplier: 1, // informational for the DDG mechanism
            steps: o.steps,
            mechanism: {
              kind: 'distributed-discrete-gaussian',
              l2Clip: terms.clipNorm,
              granularity: 2 ** -scaleBits,
              dimension: count,
              roundingBias: 0,
              localSigma: Math.sqrt(variance),
              minClients: plan.secagg.threshold - terms.maxColluders,
            },
          };
        }
        const eps = (phase: Phase) => computeEpsilon([phase], terms.delta).epsilon;
        const charged = eps(entry.phase as Phase);
        expect(eps(observed)).toBe(charged);
        expect(eps(phaseOfReceipt(entry.receipt))).toBe(charged);
        expect(entry.receipt.delta).toBe(terms.delta);
        expect(entry.receipt.accountant).toBe(terms.accountant);
      }),
      { numRuns: 14, seed: 15 },
    );
    expect(accepted, `refusals: ${refusals.join(' ')}`).toBeGreaterThan(2);
  }, 300_000);
});
