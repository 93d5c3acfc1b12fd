/**
 * `npm run bench:round-profile`: the aggregator's own work per round (issue 20), stage by stage. For each cohort size
 * it runs one federation in a fresh process (apps/aggregator/src/simulation/round-cpu.ts): the aggregator in that
 * process (Nest, socket.io, in-memory PGlite, SecAgg+, the ledger, no evaluation hook) and the agents in a child
 * process (virtual agents), so the process CPU time is the aggregator's alone. Prints, per cohort, the median of
 * every stage over the released rounds (wall / CPU / main-thread busy ms) and the aggregator's CPU per round.
 *
 *   npm run bench:round-profile [-- --cohorts 10,100] [--rounds 3] [--dp local|distributed|none] [--seed 0] [--json]
 *                               [--compare REF --revert C1,C2]
 *
 * Uses the built JavaScript: run `npm run build:ts` after changing sources. `--compare REF --revert C1,C2`: before and
 * after side by side in one run, cells interleaved: REF with commits C1,C2 reverted against REF, each built in a
 * temporary worktree (ref-tree.ts; a few minutes of tsc), e.g. `--compare HEAD --revert <optimization commits>`.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RoundCpuResult } from '../../apps/aggregator/dist/simulation/round-cpu.js';
import type { ProfileSummary } from '../../apps/aggregator/dist/simulation/round-profile.js';
import { prepareRefTree, type RefTree } from './ref-tree.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const cohorts = flag('cohorts', '10,100').split(',').map(Number);
const rounds = Number(flag('rounds', '3'));
const mode = flag('dp', 'local') as 'local' | 'distributed' | 'none';
const seed = Number(flag('seed', '0'));
const json = process.argv.includes('--json');
const compare = flag('compare', '');
const revert = flag('revert', '').split(',').filter(Boolean);
const say = (line: string) => (json ? process.stderr : process.stdout).write(line + '\n');

interface CellResult {
  /** the code measured: `working tree`, or a commit (minus reverted commits) */
  tree: string;
  cohort: number;
  rounds: number;
  failed: number;
  /** median over released rounds of the sum of the round's stages (process CPU, agents elsewhere) */
  cpuPerRoundMs: number;
  /** the aggregator process's CPU over the whole run divided by the released rounds (waits between rounds too) */
  cpuPerRoundOverallMs: number;
  wallPerRoundMs: number;
  agentThreads: number;
  ledgerEntries: number;
  ledgerVerified: boolean;
  profile: ProfileSummary;
}

/**
 * One cohort in a fresh plain-Node process (a fresh heap and database per cell; the compiled Nest app must not be
 * loaded through tsx, which would load @nestjs/core a second time and break its injector).
 */
function runCell(root: string, cohort: number): CellResult {
  const dist = (file: string) => pathToFileURL(resolve(root, 'apps/aggregator/dist/simulation', file)).href;
  const options = { sites: cohort, rounds, partition: 'iid', mode, epsilon: 3, delta: 1e-5, accountant: 'rdp' };
  const code = `
    import { runRoundCpu } from '${dist('round-cpu.js')}';
    import { summarizeProfiles } from '${dist('round-profile.js')}';
    const r = await runRoundCpu(${JSON.stringify({ ...options, dropout: 0, seed })});
    process.stdout.write(JSON.stringify({ ...r, profile: summarizeProfiles(r.reports), failed: r.reports.filter((x) => x.state === 'failed').length, reports: undefined }) + '\\n');
    process.exit(0);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (run.status !== 0) throw new Error(`cohort ${cohort} failed (${run.status}): ${run.stderr.trim().slice(-2000)}`);
  const r = JSON.parse(run.stdout.trim().split('\n').pop()!) as Omit<RoundCpuResult, 'reports'> & {
    profile: ProfileSummary;
    failed: number;
  };
  const released = r.profile.rounds;
  return {
    tree: '',
    cohort,
    rounds: released,
    failed: r.failed,
    cpuPerRoundMs: r.profile.total.cpuMs,
    cpuPerRoundOverallMs: Math.round((r.cpuMs / Math.max(1, released)) * 10) / 10,
    wallPerRoundMs: r.profile.total.wallMs,
    agentThreads: r.agentThreads,
    ledgerEntries: r.ledgerEntries,
    ledgerVerified: r.ledgerVerified,
    profile: r.profile,
  };
}

const trees: { label: string; root: string; tree?: RefTree }[] = [];
if (compare) {
  say(`building ${compare} and ${compare} minus ${revert.join(',') || '(nothing)'} in temporary worktrees ...`);
  for (const tree of [prepareRefTree(compare, revert), prepareRefTree(compare)]) {
    trees.push({ label: tree.label, root: tree.root, tree });
  }
} else trees.push({ label: 'working tree', root: process.cwd() });

const results: CellResult[] = [];
try {
  for (const cohort of cohorts) {
    for (const tree of trees) {
      const result = { ...runCell(tree.root, cohort), tree: tree.label };
      results.push(result);
      say(
        `${tree.label}, cohort ${cohort}: ${result.rounds} rounds released (${result.failed} failed), ledger ` +
          `${result.ledgerEntries} entries ${result.ledgerVerified ? 'verified' : 'NOT VERIFIED'}; aggregator CPU per ` +
          `round ${result.cpuPerRoundMs.toFixed(1)} ms (whole run / rounds ${result.cpuPerRoundOverallMs.toFixed(1)} ` +
          `ms), wall ${result.wallPerRoundMs.toFixed(1)} ms; agents on ${result.agentThreads} threads in another process`,
      );
    }
  }
} finally {
  for (const t of trees) t.tree?.remove();
}

// one table, stages as rows, a CPU and a wall column per cohort
const names: string[] = [];
for (const r of results) for (const n of Object.keys(r.profile.stages)) if (!names.includes(n)) names.push(n);
const ms = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(1));
say('');
const column = (r: CellResult) => `${trees.length > 1 ? `${r.tree}, ` : ''}cohort ${r.cohort}`;
say(`| stage (median ms, --dp ${mode}) | ${results.map((r) => `${column(r)} CPU | wall`).join(' | ')} |`);
say(`|---|${results.map(() => '---:|---:').join('|')}|`);
for (const n of names) {
  say(
    `| ${n} | ${results.map((r) => `${ms(r.profile.stages[n]?.cpuMs)} | ${ms(r.profile.stages[n]?.wallMs)}`).join(' | ')} |`,
  );
}
say(
  `| **round** | ${results.map((r) => `${ms(r.profile.total.cpuMs)} | ${ms(r.profile.total.wallMs)}`).join(' | ')} |`,
);
say(`| whole run CPU / round | ${results.map((r) => `${ms(r.cpuPerRoundOverallMs)} | `).join(' | ')} |`);
if (json) process.stdout.write(JSON.stringify({ mode, rounds, seed, results }) + '\n');
