/**
 * bench:privacy-audit — issue 19's goal grid: the one-run audit at 1,000 white-box canaries, local mode (one site)
 * and distributed mode (3 honest shares, the real encoder), claimed epsilon 1, 2, 4, 8, N seeds each (default
 * 10), plus the negative control (noise removed) and the time per audit at the defaults. Prints a Markdown table
 * for docs/benchmarks.md. Options: --seeds N, --canaries M, --modes local,distributed,distributed-q1.
 *
 *   npm run bench:privacy-audit                 # the full grid
 *   npm run bench:privacy-audit -- --seeds 3    # a reduced grid
 */
import { createHash } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { AUDIT_DEFAULTS, type AuditOptions } from '../../apps/aggregator/src/privacy-audit/config.js';
import { runPrivacyAudit, type AuditResult } from '../../apps/aggregator/src/privacy-audit/run-audit.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '10' },
    canaries: { type: 'string', default: String(AUDIT_DEFAULTS.canaries) },
    modes: { type: 'string', default: 'local,distributed,distributed-q1' },
    epsilons: { type: 'string', default: '1,2,4,8' },
  },
});
const seeds = Number(values.seeds);
const canaries = Number(values.canaries);
const epsilons = values.epsilons.split(',').map(Number);
const modes = values.modes.split(',');

function options(mode: string, epsilon: number, seed: string, removeNoise = false): AuditOptions {
  const distributed = mode.startsWith('distributed');
  return {
    mode: distributed ? 'distributed' : 'local',
    epsilon,
    delta: AUDIT_DEFAULTS.delta,
    canaries,
    rounds: distributed ? AUDIT_DEFAULTS.distributedRounds : AUDIT_DEFAULTS.localRounds,
    steps: distributed ? 1 : AUDIT_DEFAULTS.localSteps,
    sampleRate: mode === 'distributed-q1' ? 1 : AUDIT_DEFAULTS.sampleRate,
    records: AUDIT_DEFAULTS.records,
    sites: AUDIT_DEFAULTS.sites,
    confidence: AUDIT_DEFAULTS.confidence,
    seed: new Uint8Array(createHash('sha256').update(seed).digest()),
    threads: 1,
    removeNoise,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'inf');

console.log(
  `# bench:privacy-audit — ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
);
console.log(
  `# canaries ${canaries}, seeds ${seeds}, epsilons ${epsilons.join(',')}, modes ${modes.join(',')}, delta ${AUDIT_DEFAULTS.delta}, 95% confidence`,
);
console.log('');
console.log(
  '| mode | claimed eps | charged eps (rdp) | one-run: median (x claim) | one-run > charge | f-DP: median (x claim) | f-DP > charge | Gaussian pair: median (x claim) | GP > charge | s / audit |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
const overall = { oneRun: 0, fdp: 0, gp: 0, total: 0 };
for (const mode of modes) {
  for (const eps of epsilons) {
    const rs: AuditResult[] = [];
    for (let s = 0; s < seeds; s++) rs.push(await runPrivacyAudit(options(mode, eps, `bench/${mode}/${eps}/${s}`)));
    const charged = rs[0].charged.epsilon;
    const one = rs.map((r) => r.analysis.oneRun.epsilon);
    const fdp = rs.map((r) => r.analysis.fdp.epsilon);
    const gp = rs.map((r) => r.analysis.gaussianPair.epsilon);
    const over = (xs: number[]) => xs.filter((x) => x > charged).length;
    overall.oneRun += over(one);
    overall.fdp += over(fdp);
    overall.gp += over(gp);
    overall.total += rs.length;
    const secs = rs.reduce((a, r) => a + r.seconds, 0) / rs.length;
    const label = mode === 'distributed-q1' ? 'distributed, q = 1' : `${mode}, q = ${AUDIT_DEFAULTS.sampleRate}`;
    console.log(
      `| ${label} | ${eps} | ${charged.toFixed(3)} | ${f(median(one))} (${(median(one) / eps).toFixed(2)}x) | ${over(one)}/${rs.length} | ${f(median(fdp))} (${(median(fdp) / eps).toFixed(2)}x) | ${over(fdp)}/${rs.length} | ${f(median(gp))} (${(median(gp) / eps).toFixed(2)}x) | ${over(gp)}/${rs.length} | ${secs.toFixed(1)} |`,
    );
  }
}
console.log('');
console.log(
  `bounds above the charge, all white-box runs: one-run ${overall.oneRun}/${overall.total}, f-DP ${overall.fdp}/${overall.total}, Gaussian pair ${overall.gp}/${overall.total}`,
);
console.log('');
console.log('| negative control (noise removed, claimed eps 4) | one-run | f-DP | Gaussian pair | s / audit |');
console.log('|---|---|---|---|---|');
for (const mode of modes) {
  const rs: AuditResult[] = [];
  for (let s = 0; s < 3; s++) rs.push(await runPrivacyAudit(options(mode, 4, `bench/nonoise/${mode}/${s}`, true)));
  const m = (g: (r: AuditResult) => number) => f(median(rs.map(g)));
  console.log(
    `| ${mode} (3 seeds, median) | ${m((r) => r.analysis.oneRun.epsilon)} | ${m((r) => r.analysis.fdp.epsilon)} | ${m((r) => r.analysis.gaussianPair.epsilon)} | ${(rs.reduce((a, r) => a + r.seconds, 0) / rs.length).toFixed(1)} |`,
  );
}
