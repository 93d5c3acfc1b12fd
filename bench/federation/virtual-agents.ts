/**
 * `npm run bench:virtual`: virtual agents (issue 20), measured on the real compiled CLI.
 *
 * 1. Faithfulness: `concord simulate --sites 100` (MNIST, 80 digits per site) with `--agents thread-per-site`, then
 *    twice with `--agents virtual`, same seed and flags; prints the per-round accuracy side by side, the largest
 *    gap in points between the runtimes and between the two virtual runs (training draws fresh randomness every
 *    run: that second gap is what the same runtime shows), for each DP mode asked (`--modes none,local`).
 * 2. Scale: `concord simulate --sites 1000 --cohort 100 --rounds 2`: seconds from spawning the command to its
 *    "round 1 released" line, and the process's peak RSS (VmHWM of /proc/<pid>/status, polled every 200 ms; the
 *    agents' worker threads are in that one process, so it is the sum over all processes of the run).
 *
 *   npm run bench:virtual [-- --modes none,local] [--rounds 5] [--seed 0] [--reproducible] [--skip-faithfulness]
 *                         [--skip-scale]
 *
 * --reproducible: the faithfulness runs derive every random draw from --seed (simulate --reproducible), so the
 * thread-per-site and virtual runtimes train on the same draws and any gap is the runtime's own.
 *
 * Uses the built JavaScript: run `npm run build:ts` after changing sources. Timings depend on the machine's load.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';

const CLI = resolve(import.meta.dirname, '../../apps/aggregator/bin/concord.js');
function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const modes = flag('modes', 'none,local').split(',');
const rounds = flag('rounds', '5');
const seed = flag('seed', '0');
const scaleSites = flag('sites', '1000');
const scaleCohort = flag('cohort', '100');
const scaleRounds = flag('scale-rounds', '2');

interface Run {
  stdout: string;
  status: number | null;
  seconds: number;
  /** seconds from spawn to the first "round N released" line */
  firstRound?: number;
  /** peak RSS of the process, kB (VmHWM) */
  peakKb: number;
}

function vmHwmKb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // exited between two polls
  }
}

/** Runs the CLI with `args`, polling its VmHWM and stamping the first released round. */
function simulate(args: string[]): Promise<Run> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, 'simulate', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    let firstRound: number | undefined;
    let peakKb = 0;
    const poll = setInterval(() => (peakKb = Math.max(peakKb, vmHwmKb(child.pid!) ?? 0)), 200);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (firstRound === undefined && /^round \d+ +released/m.test(stdout))
        firstRound = (performance.now() - started) / 1000;
    });
    child.on('error', fail);
    child.on('exit', (status) => {
      clearInterval(poll);
      done({ stdout, status, seconds: (performance.now() - started) / 1000, firstRound, peakKb });
    });
  });
}

/** Released rounds' accuracies from the text output ("round 3  released v3  accuracy 0.8123 ..."). */
function roundAccuracies(stdout: string): number[] {
  return [...stdout.matchAll(/^round \d+ +released v\d+ +accuracy ([0-9.]+)/gm)].map((m) => Number(m[1]));
}

const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
const reproducible = process.argv.includes('--reproducible');
console.log(`machine: ${machine}`);

if (!process.argv.includes('--skip-faithfulness')) {
  for (const mode of modes) {
    // --reproducible: every draw from the seed (simulate's --reproducible), so the runtimes see the same randomness
    const common = [
      '--sites',
      '100',
      '--rounds',
      rounds,
      '--seed',
      seed,
      '--dp',
      mode,
      ...(reproducible ? ['--reproducible'] : []),
    ];
    const threads = await simulate([...common, '--agents', 'thread-per-site']);
    const virtual = await simulate([...common, '--agents', 'virtual']);
    // the same runtime twice: training draws fresh randomness every run (batch order, DP noise, rounding), so this
    // is the gap two runs of one runtime show on the same seed
    const again = await simulate([...common, '--agents', 'virtual']);
    const runs = { 'thread-per-site': threads, virtual, 'virtual again': again };
    for (const [name, r] of Object.entries(runs))
      if (r.status !== 0) throw new Error(`simulate (${name}) failed with status ${r.status}`);
    const [a, b, c] = [threads, virtual, again].map((r) => roundAccuracies(r.stdout));
    const gap = (x: number, y: number | undefined) => (y === undefined ? NaN : 100 * Math.abs(x - y));
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    console.log(
      `\nfaithfulness: --sites 100 --rounds ${rounds} --seed ${seed} --dp ${mode} (released rounds, in order)`,
    );
    console.log('| round | thread-per-site | virtual | virtual again | gap t-v (points) | gap v-v (points) |');
    console.log('|---|---|---|---|---|---|');
    a.forEach((x, i) =>
      console.log(
        `| ${i + 1} | ${x.toFixed(4)} | ${b[i]?.toFixed(4) ?? '-'} | ${c[i]?.toFixed(4) ?? '-'} | ${gap(x, b[i]).toFixed(2)} | ${gap(b[i] ?? NaN, c[i]).toFixed(2)} |`,
      ),
    );
    const largest = (xs: number[], ys: number[]) => Math.max(...xs.map((x, i) => gap(x, ys[i])));
    console.log(
      `largest per-round gap: thread-per-site vs virtual ${largest(a, b).toFixed(2)} points, virtual vs virtual ${largest(b, c).toFixed(2)} points (goal <= 0.5)`,
    );
    console.log(
      `mean accuracy over the rounds: ${[a, b, c].map((xs) => mean(xs).toFixed(4)).join(' / ')} (thread-per-site / virtual / virtual again)`,
    );
    for (const [name, r] of Object.entries(runs)) {
      console.log(
        `${name}: first round at ${r.firstRound?.toFixed(1)} s, whole run ${r.seconds.toFixed(1)} s, peak RSS ${(r.peakKb / 1024).toFixed(0)} MB`,
      );
    }
  }
}

if (!process.argv.includes('--skip-scale')) {
  const args = ['--sites', scaleSites, '--cohort', scaleCohort, '--rounds', scaleRounds, '--seed', seed];
  const run = await simulate(args);
  console.log(`\nscale: concord simulate ${args.join(' ')} (--dp local, virtual agents)`);
  if (run.status !== 0) throw new Error(`simulate failed with status ${run.status}`);
  const ledger = /^ledger: .*$/m.exec(run.stdout)?.[0] ?? 'ledger: ?';
  console.log(`command to first round released: ${run.firstRound?.toFixed(1)} s (goal < 30 s)`);
  console.log(
    `peak RSS (VmHWM, one process incl. its worker threads): ${(run.peakKb / 1024).toFixed(0)} MB (goal < 3 GB)`,
  );
  console.log(
    `whole run ${run.seconds.toFixed(1)} s; ${roundAccuracies(run.stdout).length} rounds released; ${ledger}`,
  );
}
