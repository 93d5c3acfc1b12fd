/**
 * `npm run bench:fingerprints [-- --seed S --dp local|distributed --rounds R]`: what per-site
 * fingerprints cost in accuracy. Runs `concord simulate --out DIR` (10 MNIST sites, defaults), then evaluates, on
 * the 2,000 held-out digits of the same seeded split, the owner-watermarked model.safetensors and every
 * fingerprints/<site>.safetensors (owner key + that site's key, 512 bits in the first layer), and prints each
 * accuracy and its difference from the owner-only model. Build first (`npm run build:ts`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnist, preprocessDataset } from '@concord/datasets';
import { resolveTrainingPlan } from '@concord/fedopt';
import { evaluate } from '@concord/native';
import { parseFederationSpec } from '@concord/protocol';
import { readSafetensors } from '@concord/watermark';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const seed = flag('seed', '0');
const mode = flag('dp', 'local');
const rounds = flag('rounds', '150');

const dir = mkdtempSync(join(tmpdir(), 'concord-fingerprints-'));
try {
  const args = ['apps/aggregator/bin/concord.js', 'simulate', '--json', '--dp', mode, '--seed', seed];
  args.push('--rounds', rounds, '--out', dir);
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0)
    throw new Error(`concord simulate failed (${run.status}): ${run.stderr.trim().split('\n').pop()}`);
  const reported = (JSON.parse(run.stdout) as { accuracy: number }).accuracy;

  const plan = resolveTrainingPlan(parseFederationSpec({ dataset: { kind: 'mnist' } }));
  const test = preprocessDataset(plan.preprocess, loadMnist({ seed: Number(seed) }).test);
  const accuracyOf = async (file: string) => {
    const model = readSafetensors(new Uint8Array(readFileSync(file)));
    return (await evaluate(model.spec, model.weights, test.features, test.labels)).accuracy;
  };
  const owner = await accuracyOf(join(dir, 'model.safetensors'));
  console.log(`simulate --dp ${mode} --seed ${seed} --rounds ${rounds}: reported ${(reported * 100).toFixed(2)}%`);
  console.log(`owner-watermarked model.safetensors: ${(owner * 100).toFixed(2)}%`);
  const diffs: number[] = [];
  for (const file of readdirSync(join(dir, 'fingerprints'))
    .filter((f) => f.endsWith('.safetensors'))
    .sort()) {
    const accuracy = await accuracyOf(join(dir, 'fingerprints', file));
    diffs.push(accuracy - owner);
    console.log(`  ${file}: ${(accuracy * 100).toFixed(2)}%  (${((accuracy - owner) * 100).toFixed(2)} points)`);
  }
  const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
  console.log(
    `fingerprinted copies vs owner-only: mean ${(mean * 100).toFixed(2)} points, ` +
      `worst ${(Math.min(...diffs) * 100).toFixed(2)}, best ${(Math.max(...diffs) * 100).toFixed(2)}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
