import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { CliError, parseChoiceFlag, parseNumberFlag, printJson } from '@concord/cli';
import { AUDIT_DEFAULTS, AUDIT_MODES, type AuditMode, type AuditOptions } from '../privacy-audit/config.js';
import { renderAuditHtml } from '../privacy-audit/report-html.js';
import { runPrivacyAudit, type AuditResult } from '../privacy-audit/run-audit.js';

interface AuditFlags {
  mode?: string;
  epsilon?: string;
  delta?: string;
  rounds?: string;
  steps?: string;
  canaries?: string;
  sampleRate?: string;
  records?: string;
  sites?: string;
  confidence?: string;
  seed?: string;
  threads?: string;
  json?: boolean;
  out?: string;
}

const open01 = { min: 0, minExclusive: true, max: 1, maxExclusive: true };

/** Flags to options; every bad value is a CliError (exit 2) naming the flag, before any work. */
export function auditOptionsFrom(flags: AuditFlags): { options: AuditOptions; seedHex: string } {
  const mode = parseChoiceFlag('--mode', flags.mode ?? 'local', AUDIT_MODES) as AuditMode;
  const distributed = mode === 'distributed';
  const num = (flag: string, raw: string | undefined, fallback: number, rule: Parameters<typeof parseNumberFlag>[2]) =>
    raw === undefined ? fallback : parseNumberFlag(flag, raw, rule);
  const canaries = num('--canaries', flags.canaries, AUDIT_DEFAULTS.canaries, { integer: true, min: 4, max: 100_000 });
  const rounds = num(
    '--rounds',
    flags.rounds,
    distributed ? AUDIT_DEFAULTS.distributedRounds : AUDIT_DEFAULTS.localRounds,
    { integer: true, min: 1, max: 100_000 },
  );
  if (distributed && flags.steps !== undefined) throw new CliError('--steps: distributed mode runs one step per round');
  const steps = num('--steps', flags.steps, AUDIT_DEFAULTS.localSteps, { integer: true, min: 1, max: 100_000 });
  const seedText = flags.seed;
  const seed = seedText === undefined ? randomBytes(32) : createHash('sha256').update(seedText).digest();
  const options: AuditOptions = {
    mode,
    epsilon: num('--epsilon', flags.epsilon, AUDIT_DEFAULTS.epsilon, { min: 0, minExclusive: true, max: 100 }),
    delta: num('--delta', flags.delta, AUDIT_DEFAULTS.delta, open01),
    canaries,
    rounds,
    steps: distributed ? 1 : steps,
    sampleRate: num('--sample-rate', flags.sampleRate, AUDIT_DEFAULTS.sampleRate, {
      min: 0,
      minExclusive: true,
      max: 1,
    }),
    records: num('--records', flags.records, AUDIT_DEFAULTS.records, { integer: true, min: 1, max: 10_000_000 }),
    sites: num('--sites', flags.sites, AUDIT_DEFAULTS.sites, { integer: true, min: 1, max: 1000 }),
    confidence: num('--confidence', flags.confidence, AUDIT_DEFAULTS.confidence, open01),
    seed: new Uint8Array(seed),
    threads: num('--threads', flags.threads, 1, { integer: true, min: 1, max: 256 }),
  };
  return { options, seedHex: Buffer.from(seed).toString('hex') };
}

function summary(r: AuditResult): Omit<AuditResult, 'scores' | 'included'> {
  const { scores: _scores, included: _included, ...rest } = r;
  return rest;
}

/** Writes the JSON (with every score and coin) and the HTML report; each file appears whole or not at all. */
function writeReport(dir: string, r: AuditResult, seedHex: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    const files: [string, string][] = [
      ['privacy-audit.json', `${JSON.stringify({ ...r, seed: seedHex }, null, 2)}\n`],
      ['privacy-audit.html', renderAuditHtml(r)],
    ];
    for (const [name, text] of files) {
      const tmp = join(dir, `.${name}.${process.pid}.tmp`);
      writeFileSync(tmp, text, { mode: 0o644 });
      renameSync(tmp, join(dir, name));
    }
  } catch (error) {
    throw new CliError(
      `--out: cannot write the report in '${dir}' (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      2,
      'E_IO',
    );
  }
}

function printText(r: AuditResult): void {
  const a = r.analysis;
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'infinite');
  const shape =
    r.mode === 'distributed'
      ? `${r.rounds} rounds x 1 step, ${r.sites} honest shares`
      : `${r.rounds} rounds x ${r.steps} steps`;
  const lines = [
    `privacy audit: ${r.mode}, ${r.canaries} canaries, ${shape}, q ${r.sampleRate}`,
    `  charged epsilon            ${f(r.charged.epsilon)} at delta ${r.charged.delta} (rdp, noise multiplier ${r.charged.noiseMultiplier.toFixed(4)})`,
    `  lower bound (one-run)      ${f(a.oneRun.epsilon)} at ${a.confidence * 100}% confidence, rigorous (Steinke, Nasr, Jagielski 2023; k+ ${a.oneRun.best.kPlus}, k- ${a.oneRun.best.kMinus}: ${a.oneRun.best.correct}/${a.oneRun.best.guesses} correct)`,
    `  lower bound (f-DP)         ${f(a.fdp.epsilon)}, rigorous rejection of mu-GDP for mu < ${f(a.fdp.mu)} (Mahloujifar, Melis, Chaudhuri 2025)`,
    `  Gaussian pair              ${f(a.gaussianPair.epsilon)} (asymptotic, heuristic; point estimate ${f(a.gaussianPair.estimate)})`,
    `  ${r.exceedsCharge ? 'FINDING: the rigorous lower bound exceeds the charged epsilon' : 'no violation detected (a lower bound cannot prove the claim)'}; ${r.seconds.toFixed(1)} s`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function runAudit(flags: AuditFlags): Promise<void> {
  const { options, seedHex } = auditOptionsFrom(flags);
  const bar =
    !flags.json && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          {
            format: 'audit rounds {bar} {value}/{total}',
            stream: process.stderr,
            hideCursor: true,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  bar?.start(options.rounds, 0);
  let result: AuditResult;
  try {
    result = await runPrivacyAudit(options, (round) => bar?.update(round));
  } catch (error) {
    const e = error as { code?: unknown; message?: string };
    if (typeof e.code === 'string' && /^E_(DP_|INVALID)/.test(e.code))
      throw new CliError(e.message ?? 'invalid input', 2, e.code);
    if (error instanceof RangeError) throw new CliError(error.message, 2, 'E_RANGE');
    throw error;
  } finally {
    bar?.stop();
  }
  if (flags.out !== undefined) writeReport(flags.out, result, seedHex);
  if (flags.json) printJson({ ...summary(result), seed: seedHex });
  else printText(result);
  if (result.exceedsCharge) process.exitCode = 1;
}

/** `concord privacy audit`: registered under `concord privacy` by privacy.command.ts. */
export function registerAudit(privacy: Command): void {
  privacy
    .command('audit')
    .description(
      'empirical lower bound on epsilon from one run with canaries (white-box: local | distributed; or black-box), beside the charged epsilon; exit 1 when the bound exceeds it',
    )
    .option('--mode <mode>', 'local | distributed | black-box (default local)')
    .option('--epsilon <e>', `claimed epsilon; the noise is calibrated to it (default ${AUDIT_DEFAULTS.epsilon})`)
    .option('--delta <d>', `delta (default ${AUDIT_DEFAULTS.delta})`)
    .option(
      '--rounds <n>',
      `rounds (default ${AUDIT_DEFAULTS.localRounds} local, ${AUDIT_DEFAULTS.distributedRounds} distributed)`,
    )
    .option('--steps <n>', `local DP-SGD steps per round (default ${AUDIT_DEFAULTS.localSteps})`)
    .option('--canaries <m>', `canaries, each included with probability 1/2 (default ${AUDIT_DEFAULTS.canaries})`)
    .option('--sample-rate <q>', `Poisson sampling rate (default ${AUDIT_DEFAULTS.sampleRate})`)
    .option('--records <n>', `synthetic records per site (default ${AUDIT_DEFAULTS.records})`)
    .option('--sites <n>', `distributed: honest noise shares in each sum (default ${AUDIT_DEFAULTS.sites})`)
    .option('--confidence <c>', `confidence of the lower bounds (default ${AUDIT_DEFAULTS.confidence})`)
    .option('--seed <text>', 'reproducible run (hashed to 32 bytes); default random, printed in --json')
    .option('--threads <n>', 'native threads (default 1)')
    .option('--json', 'print one JSON object')
    .option('--out <dir>', 'write privacy-audit.json (all scores and coins) and privacy-audit.html there')
    .action((flags: AuditFlags) => runAudit(flags));
}
