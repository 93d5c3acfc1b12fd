/**
 * `npm run bench:sparsify`: shared-seed sparsification against top-k without SecAgg (issue 20, stretch). MNIST,
 * 10 IID sites of 800 digits, local DP at epsilon 3 (delta 1e-5), Concord's defaults otherwise, through the in-process
 * harness (bench/federation/harness.ts): every row trains the same federation from the same seeds and differs only
 * in what each site sends.
 *
 * - dense: every coordinate in the encoding sized from the data and noise (libs/fedopt word-sizing.ts), the sum
 *   taken mod 2^b as SecAgg+ takes it (the `sized` row of bench:bits);
 * - shared-seed f: the round's pseudo-random f d coordinates, the same at every site, in the same words and
 *   modulus, so SecAgg+ can sum them; `--rescale` also runs them scaled by 1/f (unbiased);
 * - top-k f (no SecAgg): each site's own f d largest coordinates of its delta plus its residual (error feedback),
 *   sent as float32 with a 4-byte index each; the aggregator sees every site's sparse update.
 *
 *   npm run bench:sparsify [-- --seeds 0,1,2] [--fractions 0.5,0.25,0.1] [--rounds N] [--rescale] [--json]
 *
 * Bytes: one site's payload over 4 d (d model coordinates).
 */
import { localEncodingFromNoise, resolveTrainingPlan } from '@concord/fedopt';
import { modulusBitsFor, packedByteLength, parseFederationSpec } from '@concord/protocol';
import { runHarness } from './harness.js';
import { sparsePayloadBytes, type Sparsifier } from './sparsify.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const seeds = flag('seeds', '0,1,2').split(',').map(Number);
const fractions = flag('fractions', '0.5,0.25,0.1').split(',').map(Number);
const rounds = flag('rounds', '');
const rescale = process.argv.includes('--rescale');
const json = process.argv.includes('--json');
const SITES = 10;
const RECORDS_PER_SITE = 8000 / SITES;
const say = (line: string) => (json ? process.stderr : process.stdout).write(line + '\n');
for (const f of fractions) if (!(f > 0 && f <= 1)) throw new RangeError(`--fractions: each in (0, 1], got ${f}`);

const spec = parseFederationSpec({
  dataset: { kind: 'mnist' },
  privacy: { mode: 'local', epsilon: 3, delta: 1e-5 },
  ...(rounds ? { rounds: Number(rounds) } : {}),
});
const plan = resolveTrainingPlan(spec, { cohortSize: SITES });
if (plan.privacy.mode !== 'local') throw new Error('unreachable');
const d = plan.parameterCount;
const encoding = localEncodingFromNoise({
  learningRate: plan.local.learningRate,
  noiseMultiplier: plan.privacy.noiseMultiplier,
  clipNorm: plan.privacy.clipNorm,
  sampleRate: plan.privacy.sampleRate,
  steps: plan.privacy.localSteps,
  recordsPerSite: RECORDS_PER_SITE,
});
const bits = modulusBitsFor({ cohortSize: SITES, clamp: encoding.clip, scaleBits: encoding.scaleBits, dimension: d });
const sized = { ...plan, encoding };

interface Row {
  variant: string;
  secagg: boolean;
  payloadRatio: number;
  accuracies: number[];
  mean: number;
}
const variants: { variant: string; secagg: boolean; bytes: number; sparsify?: Sparsifier }[] = [
  { variant: `dense (b = ${bits})`, secagg: true, bytes: packedByteLength(bits, d) },
];
for (const fraction of fractions) {
  const shared: Sparsifier = { kind: 'shared-seed', fraction, rescale: false };
  variants.push({
    variant: `shared-seed f = ${fraction}`,
    secagg: true,
    bytes: sparsePayloadBytes(shared, bits, d),
    sparsify: shared,
  });
  if (rescale) {
    const scaled: Sparsifier = { kind: 'shared-seed', fraction, rescale: true };
    variants.push({
      variant: `shared-seed f = ${fraction}, x 1/f`,
      secagg: true,
      bytes: sparsePayloadBytes(scaled, bits, d),
      sparsify: scaled,
    });
  }
  const top: Sparsifier = { kind: 'top-k', fraction };
  variants.push({
    variant: `top-k f = ${fraction} (float32)`,
    secagg: false,
    bytes: sparsePayloadBytes(top, 32, d),
    sparsify: top,
  });
}

const rows: Row[] = [];
for (const v of variants) {
  const accuracies: number[] = [];
  for (const seed of seeds) {
    const started = performance.now();
    const r = await runHarness(spec, {
      sites: SITES,
      partition: 'iid',
      seed,
      plan: sized,
      modulusBits: bits,
      sparsify: v.sparsify,
    });
    accuracies.push(r.accuracy);
    say(
      `${v.variant} seed ${seed}: ${(r.accuracy * 100).toFixed(2)}% (${((performance.now() - started) / 1000).toFixed(0)} s)`,
    );
  }
  rows.push({
    variant: v.variant,
    secagg: v.secagg,
    payloadRatio: v.bytes / (4 * d),
    accuracies,
    mean: accuracies.reduce((a, b) => a + b, 0) / accuracies.length,
  });
}
if (json) process.stdout.write(JSON.stringify({ d, bits, encoding, rows }, null, 2) + '\n');
else {
  const dense = rows[0].mean;
  say(`\nd = ${d}, sized encoding clip ${encoding.clip.toPrecision(3)}, 2^-${encoding.scaleBits}, b = ${bits}`);
  say('| variant | SecAgg+ can sum it | payload / 4d | accuracy per seed (%) | mean | vs dense (points) |');
  say('|---|---|---:|---|---:|---:|');
  for (const r of rows) {
    const per = r.accuracies.map((a) => (a * 100).toFixed(2)).join(' / ');
    const gap = ((r.mean - dense) * 100).toFixed(2);
    say(
      `| ${r.variant} | ${r.secagg ? 'yes' : 'no'} | ${r.payloadRatio.toFixed(3)}x | ${per} | ${(r.mean * 100).toFixed(2)} | ${gap} |`,
    );
  }
}
