/**
 * `npm run bench:evaluation`: private federated evaluation (issue 17), through `concord simulate --json` (real
 * aggregator, agents in worker threads, SecAgg+, ledger). For the tutorial's federation (MNIST, 3 sites, 5 rounds,
 * epsilon 2.9; evaluations of versions 2, 4, 5) in local and distributed modes over seeds, it prints each released
 * evaluation's noisy accuracy and loss with the std of their noise beside the exact metric on the union of the
 * sites' validation splits, how many stds apart they are, each site's epsilon (must not exceed the training-only
 * run's: the default evaluation noise adds none), and the held-out accuracy with and without the 20 % split.
 *
 *   npm run bench:evaluation [-- --seeds 0,1,2] [--modes local,distributed] [--json]
 *
 * Uses the built JavaScript: run `npm run build:ts` after changing sources.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const flag = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const seeds = flag('seeds', '0,1,2').split(',').map(Number);
const modes = flag('modes', 'local,distributed').split(',');
const BIN = new URL('../../apps/aggregator/bin/concord.js', import.meta.url).pathname;

interface Evaluation {
  modelVersion: number;
  noisy: { accuracy: number; loss: number; records: number };
  std: { accuracy: number; loss: number; records: number };
  exact: { accuracy: number; loss: number; records: number };
  deviations: { accuracy: number; loss: number };
}
interface Summary {
  accuracy: number;
  perSiteEpsilon: Record<string, number>;
  evaluations: Evaluation[];
  ledger: { entries: number; verified: boolean };
}

const dir = mkdtempSync(join(tmpdir(), 'concord-bench-eval-'));
function simulate(mode: string, seed: number, evaluation: boolean): Summary {
  const spec = join(dir, `spec-${evaluation}.json`);
  writeFileSync(spec, JSON.stringify({ dataset: { kind: 'mnist' }, evaluation: { enabled: evaluation } }));
  const args = ['simulate', '--spec', spec, '--sites', '3', '--rounds', '5', '--dp', mode, '--epsilon', '2.9'];
  const r = spawnSync('node', [BIN, ...args, '--seed', String(seed), '--json'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`simulate ${mode} seed ${seed}: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as Summary;
}

const rows: Record<string, unknown>[] = [];
try {
  for (const mode of modes) {
    for (const seed of seeds) {
      const withEval = simulate(mode, seed, true);
      const without = simulate(mode, seed, false);
      const maxEps = (s: Summary) => Math.max(...Object.values(s.perSiteEpsilon));
      for (const e of withEval.evaluations) {
        rows.push({
          mode,
          seed,
          version: e.modelVersion,
          accuracy: `${e.noisy.accuracy.toFixed(4)} ± ${e.std.accuracy.toFixed(4)}`,
          exactAccuracy: e.exact.accuracy.toFixed(4),
          accuracyStdsApart: e.deviations.accuracy.toFixed(2),
          loss: `${e.noisy.loss.toFixed(3)} ± ${e.std.loss.toFixed(3)}`,
          exactLoss: e.exact.loss.toFixed(3),
          lossStdsApart: e.deviations.loss.toFixed(2),
          records: `${e.noisy.records.toFixed(0)} (exact ${e.exact.records})`,
        });
      }
      rows.push({
        mode,
        seed,
        version: 'final',
        heldOutAccuracyWithSplit: withEval.accuracy.toFixed(4),
        heldOutAccuracyWithoutSplit: without.accuracy.toFixed(4),
        maxSiteEpsilonWithEvaluation: maxEps(withEval).toFixed(4),
        maxSiteEpsilonTrainingOnly: maxEps(without).toFixed(4),
        ledgerVerified: withEval.ledger.verified,
      });
      process.stderr.write(`${mode} seed ${seed} done\n`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
else for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
