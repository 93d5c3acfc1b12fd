/**
 * `npm run bench:bits`: bytes per coordinate (issue 20). MNIST, 10 sites (800 digits each, IID), epsilon 3, delta
 * 1e-5, Concord's defaults otherwise; for each mode and seed, the same federation twice through the in-process
 * harness (bench/federation/harness.ts: the agents' trainer and encoders, the sum taken mod 2^b and decoded centred
 * as SecAgg+ does; the masks cancel exactly and are left out):
 *
 * - 32-bit: the encoding of before issue 20 (local: the stored clip 1 and 2^16 grid; distributed: the clamp that
 *   fills half of 32 bits) in a 32-bit modulus;
 * - sized: the encoding sized from the data and noise (libs/fedopt word-sizing.ts) in the modulus the plan derives
 *   (libs/protocol events/modulus.ts), with the masked-input payload ceil(b d / 8) bytes over 4 d.
 *
 *   npm run bench:bits [-- --seeds 0,1,2] [--modes local,distributed] [--scale-bits 14] [--count-weight 0.25]
 *                      [--rounds N] [--json]
 *
 * --scale-bits sets the distributed grid (the default is FEDERATION_DEFAULTS' 14); the noise is recalibrated for it.
 * --count-weight sets the distributed count coordinate's weight (default 0.25): the count coordinate's range sets the
 * modulus, so a smaller weight narrows it (the gradient keeps sqrt(C^2 - w^2) of the clip).
 */
import { distributedClampFromData, localEncodingFromNoise, resolveTrainingPlan } from '@concord/fedopt';
import { modulusBitsFor, packedByteLength, parseFederationSpec } from '@concord/protocol';
import { runHarness } from './harness.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const seeds = flag('seeds', '0,1,2').split(',').map(Number);
const modes = flag('modes', 'local,distributed').split(',') as ('local' | 'distributed')[];
const scaleBits = flag('scale-bits', '');
const countWeight = flag('count-weight', '');
const rounds = flag('rounds', '');
const json = process.argv.includes('--json');
const SITES = 10;
const RECORDS_PER_SITE = 8000 / SITES; // the mnist package's 8,000 training digits, IID
const say = (line: string) => (json ? process.stderr : process.stdout).write(line + '\n');

interface Row {
  mode: string;
  variant: '32-bit' | 'sized';
  modulusBits: number;
  payloadRatio: number;
  encoding: string;
  accuracies: number[];
  mean: number;
}

const rows: Row[] = [];
for (const mode of modes) {
  const spec = parseFederationSpec({
    dataset: { kind: 'mnist' },
    privacy: {
      mode,
      epsilon: 3,
      delta: 1e-5,
      ...(mode === 'distributed' && scaleBits ? { scaleBits: Number(scaleBits) } : {}),
      ...(mode === 'distributed' && countWeight ? { countWeight: Number(countWeight) } : {}),
    },
    ...(rounds ? { rounds: Number(rounds) } : {}),
  });
  const plan = resolveTrainingPlan(spec, { cohortSize: SITES });
  const p = plan.privacy;
  if (p.mode === 'none') throw new Error('unreachable');
  const d = p.mode === 'distributed' ? plan.parameterCount + 1 : plan.parameterCount;
  const variants: {
    variant: Row['variant'];
    bits: number;
    encoding: string;
    run: (seed: number) => Promise<number>;
  }[] = [];
  if (p.mode === 'local') {
    const sized = localEncodingFromNoise({
      learningRate: plan.local.learningRate,
      noiseMultiplier: p.noiseMultiplier,
      clipNorm: p.clipNorm,
      sampleRate: p.sampleRate,
      steps: p.localSteps,
      recordsPerSite: RECORDS_PER_SITE,
    });
    const bits = modulusBitsFor({ cohortSize: SITES, clamp: sized.clip, scaleBits: sized.scaleBits, dimension: d });
    const old = plan.encoding;
    variants.push({
      variant: '32-bit',
      bits: 32,
      encoding: `clip ${old.clip}, 2^-${old.scaleBits}`,
      run: async (seed) => (await runHarness(spec, { sites: SITES, partition: 'iid', seed, plan })).accuracy,
    });
    variants.push({
      variant: 'sized',
      bits,
      encoding: `clip ${sized.clip.toPrecision(3)}, 2^-${sized.scaleBits}`,
      run: async (seed) =>
        (
          await runHarness(spec, {
            sites: SITES,
            partition: 'iid',
            seed,
            plan: { ...plan, encoding: sized },
            modulusBits: bits,
          })
        ).accuracy,
    });
  } else {
    const s = p.scaleBits;
    const clamp = distributedClampFromData({
      sampleRate: p.sampleRate,
      countWeight: p.countWeight,
      recordsPerSite: RECORDS_PER_SITE,
    });
    // the harness's share variance (z C 2^s)^2 / (t - c), as the plan builder's distributedShareVariance
    const noiseVariance = (p.noiseMultiplier * p.clipNorm * 2 ** s) ** 2 / p.minNoisyClients;
    const bits = modulusBitsFor({ cohortSize: SITES, clamp, scaleBits: s, dimension: d, noiseVariance });
    variants.push({
      variant: '32-bit',
      bits: 32,
      encoding: `clamp 2^31/2^${s}, 2^-${s}`,
      run: async (seed) => (await runHarness(spec, { sites: SITES, partition: 'iid', seed, plan })).accuracy,
    });
    variants.push({
      variant: 'sized',
      bits,
      encoding: `clamp ${clamp.toPrecision(3)}, 2^-${s}`,
      run: async (seed) =>
        (await runHarness(spec, { sites: SITES, partition: 'iid', seed, plan, clamp, modulusBits: bits })).accuracy,
    });
  }
  for (const v of variants) {
    const accuracies: number[] = [];
    for (const seed of seeds) {
      const started = performance.now();
      accuracies.push(await v.run(seed));
      say(
        `${mode} ${v.variant} seed ${seed}: ${(accuracies.at(-1)! * 100).toFixed(2)}% (${((performance.now() - started) / 1000).toFixed(0)} s)`,
      );
    }
    rows.push({
      mode,
      variant: v.variant,
      modulusBits: v.bits,
      payloadRatio: packedByteLength(v.bits, d) / (4 * d),
      encoding: v.encoding,
      accuracies,
      mean: accuracies.reduce((a, b) => a + b, 0) / accuracies.length,
    });
  }
}
if (json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
else {
  say('\n| mode | variant | encoding | b | payload / 4d | accuracy per seed | mean |');
  say('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const per = r.accuracies.map((a) => (a * 100).toFixed(2)).join(' / ');
    say(
      `| ${r.mode} | ${r.variant} | ${r.encoding} | ${r.modulusBits} | ${r.payloadRatio.toFixed(3)}x | ${per} | ${(r.mean * 100).toFixed(2)}% |`,
    );
  }
}
