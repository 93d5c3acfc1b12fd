import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import {
  ACCOUNTANTS,
  calibrateNoiseMultiplier,
  computeEpsilon,
  type AccountantName,
  type EpsilonResult,
  type Phase,
} from '@concord/dp';
import { CliError, parseChoiceFlag, parseNumberFlag, printJson } from '@concord/cli';
import { registerAudit } from './privacy-audit.command.js';

interface EpsilonFlags {
  sampleRate?: string;
  noiseMultiplier?: string;
  steps?: string;
  history?: string;
  delta?: string;
  accountant?: string;
  epsError?: string;
  json?: boolean;
}

interface CalibrateFlags {
  targetEpsilon?: string;
  sampleRate?: string;
  steps?: string;
  delta?: string;
  accountant?: string;
  tolerance?: string;
  json?: boolean;
}

const sampleRateRule = { min: 0, minExclusive: true, max: 1 };
const deltaRule = { min: 0, minExclusive: true, max: 1, maxExclusive: true };
const stepsRule = { integer: true, min: 1, max: 1_000_000_000 };

function accountantFlag(raw: string | undefined): AccountantName {
  return parseChoiceFlag('--accountant', raw ?? process.env.CONCORD_PRIVACY_ACCOUNTANT ?? 'rdp', ACCOUNTANTS);
}

/** Reads a history file: a JSON array of phases. Library validation errors name the element and field. */
function readHistory(file: string): Phase[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError(`--history: cannot read '${file}' (${reason})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`--history: '${file}' is not valid JSON`);
  }
  if (!Array.isArray(parsed)) throw new CliError(`--history: '${file}' must hold a JSON array of phases`);
  return parsed as Phase[];
}

/** Library guard errors (TypeError/RangeError with a code) are bad input: exit 2, one line. */
function asCliError(error: unknown, prefix: string): never {
  if (error instanceof CliError) throw error;
  const e = error as { code?: string; message?: string };
  if (e && typeof e.code === 'string' && e.code.startsWith('E_DP_')) {
    throw new CliError(`${prefix}${e.message ?? 'invalid input'}`, e.code === 'E_DP_BUDGET' ? 1 : 2, e.code);
  }
  throw error;
}

function describeEpsilon(r: EpsilonResult): string {
  const detail =
    r.accountant === 'rdp'
      ? `rdp, optimal order ${r.optimalOrder}`
      : `prv upper bound, error ${r.epsilonError}, lower bound ${r.epsilonLower?.toFixed(6)}`;
  return `epsilon ${r.epsilon.toFixed(6)} at delta ${r.delta} (${detail})`;
}

function runEpsilon(flags: EpsilonFlags): void {
  const single = flags.sampleRate !== undefined || flags.noiseMultiplier !== undefined || flags.steps !== undefined;
  if (flags.history !== undefined && single) {
    throw new CliError('--history cannot be combined with --sample-rate, --noise-multiplier or --steps');
  }
  const delta = parseNumberFlag('--delta', flags.delta, deltaRule);
  const accountant = accountantFlag(flags.accountant);
  const epsError =
    flags.epsError === undefined
      ? undefined
      : parseNumberFlag('--eps-error', flags.epsError, { min: 0, minExclusive: true, max: 10 });
  let history: Phase[];
  let prefix = '';
  if (flags.history !== undefined) {
    history = readHistory(flags.history);
    prefix = '--history: ';
  } else {
    history = [
      {
        sampleRate: parseNumberFlag('--sample-rate', flags.sampleRate, sampleRateRule),
        noiseMultiplier: parseNumberFlag('--noise-multiplier', flags.noiseMultiplier, { min: 0, minExclusive: true }),
        steps: parseNumberFlag('--steps', flags.steps, stepsRule),
      },
    ];
  }
  let result: EpsilonResult;
  try {
    result = computeEpsilon(history, delta, { accountant, epsError });
  } catch (error) {
    asCliError(error, prefix);
  }
  if (flags.json) printJson(result);
  else process.stdout.write(`${describeEpsilon(result)}\n`);
}

function runCalibrate(flags: CalibrateFlags): void {
  const targetEpsilon = parseNumberFlag('--target-epsilon', flags.targetEpsilon, { min: 0, minExclusive: true });
  const sampleRate = parseNumberFlag('--sample-rate', flags.sampleRate, sampleRateRule);
  const steps = parseNumberFlag('--steps', flags.steps, stepsRule);
  const delta = parseNumberFlag('--delta', flags.delta, deltaRule);
  const accountant = accountantFlag(flags.accountant);
  const tolerance =
    flags.tolerance === undefined
      ? 0.01
      : parseNumberFlag('--tolerance', flags.tolerance, { min: 0, minExclusive: true, max: targetEpsilon });
  let result: { noiseMultiplier: number; epsilon: number };
  try {
    result = calibrateNoiseMultiplier({ targetEpsilon, sampleRate, steps, delta, accountant, tolerance });
  } catch (error) {
    asCliError(error, '');
  }
  if (flags.json) {
    printJson({ ...result, targetEpsilon, sampleRate, steps, delta, accountant, tolerance });
  } else {
    process.stdout.write(
      `noise multiplier ${result.noiseMultiplier} gives epsilon ${result.epsilon.toFixed(6)} <= ${targetEpsilon} at delta ${delta} (${accountant})\n`,
    );
  }
}

/** `concord privacy epsilon | calibrate | audit`: accountant answers (libs/dp) and the empirical audit. */
export function register(program: Command): void {
  const privacy = program
    .command('privacy')
    .description('privacy accountants (epsilon of a plan or a history, noise calibration) and the empirical audit');

  privacy
    .command('epsilon')
    .description('epsilon of Poisson-subsampled Gaussian steps, or of a history file of phases, at a delta')
    .option('--sample-rate <q>', 'Poisson sampling rate q in (0, 1]')
    .option('--noise-multiplier <sigma>', 'noise standard deviation / L2 sensitivity, > 0')
    .option('--steps <n>', 'number of steps, an integer >= 1')
    .option('--history <file>', 'JSON array of phases [{"sampleRate", "noiseMultiplier", "steps"}, ...]')
    .option('--delta <delta>', 'target delta in (0, 1)')
    .addOption(
      new Option('--accountant <name>', 'rdp | prv (env CONCORD_PRIVACY_ACCOUNTANT)').default(undefined, 'rdp'),
    )
    .option('--eps-error <e>', 'prv only: error bound on epsilon (default 0.01)')
    .option('--json', 'print one JSON object')
    .action((flags: EpsilonFlags) => runEpsilon(flags));

  privacy
    .command('calibrate')
    .description('smallest noise multiplier whose epsilon meets a target (Opacus get_noise_multiplier search)')
    .option('--target-epsilon <e>', 'target epsilon, > 0')
    .option('--sample-rate <q>', 'Poisson sampling rate q in (0, 1]')
    .option('--steps <n>', 'number of steps, an integer >= 1')
    .option('--delta <delta>', 'target delta in (0, 1)')
    .addOption(
      new Option('--accountant <name>', 'rdp | prv (env CONCORD_PRIVACY_ACCOUNTANT)').default(undefined, 'rdp'),
    )
    .option('--tolerance <e>', 'stop when target - epsilon <= tolerance (default 0.01)')
    .option('--json', 'print one JSON object')
    .action((flags: CalibrateFlags) => runCalibrate(flags));

  registerAudit(privacy);
}
