import { CliError, parseChoiceFlag, parseNumberFlag } from '@concord/cli';
import type { Dataset } from '@concord/datasets';
import { FEDERATION_DEFAULTS, type FederationSpec } from '@concord/protocol';
import { type Command, Option } from 'commander';
import { DEFAULT_STATE_DIR, loadSiteState, lowerCap, pinnedTerms, saveSiteState } from '../keys/site-state.js';
import { loadCsvDataset, loadMnistShard, parseShard, preprocess } from '../data/load-data.js';
import { runAgent } from '../transport/agent-transport.js';
import { FileBudgetGuard } from '../services/budget/file-budget-guard.js';
import { readText } from '../cli/read-text.js';
import { createProgressReporter, progressModeFor } from '../services/progress.js';

const DEVICES = ['cpu', 'cuda', 'auto'] as const;

export function register(program: Command): void {
  program
    .command('run')
    .description('join the federation: train locally with DP-SGD on this data and send only masked updates')
    .addOption(
      new Option('--server <url>', 'aggregator URL (default: the one enrolled with)').env('CONCORD_AGENT_SERVER'),
    )
    .addOption(new Option('--data <file.csv>', "the site's data, a CSV with a header row").env('CONCORD_AGENT_DATA'))
    .addOption(new Option('--label-column <name>', 'the label column of --data').env('CONCORD_AGENT_LABEL_COLUMN'))
    .addOption(new Option('--dataset <name>', 'a built-in trial dataset instead of --data').choices(['mnist']))
    .addOption(new Option('--shard <i/n>', 'with --dataset: this site is shard i of n (0 <= i < n)'))
    .addOption(new Option('--partition <scheme>', 'with --dataset: iid, dirichlet:ALPHA or classes:K').default('iid'))
    .addOption(
      new Option('--seed <n>', 'with --dataset: split and partition seed, the same on every site').default('0'),
    )
    .addOption(
      new Option('--max-epsilon <e>', 'lower the cap for this and later runs (never raises it)').env(
        'CONCORD_AGENT_MAX_EPSILON',
      ),
    )
    .addOption(new Option('--delta <d>', "lower the cap's delta").env('CONCORD_AGENT_DELTA'))
    .addOption(
      new Option(
        '--accountant <name>',
        'how the site composes its own history: must be the accountant pinned at enrollment (the default)',
      ).choices(['rdp', 'prv']),
    )
    .addOption(
      new Option('--device <device>', 'cpu, cuda or auto (CUDA when present)')
        .env('CONCORD_AGENT_DEVICE')
        .default('cpu'),
    )
    .addOption(new Option('--threads <n>', 'native training threads').env('CONCORD_AGENT_THREADS').default('1'))
    .addOption(
      new Option(
        '--max-aborted-rounds <r>',
        'stop after this many rounds in a row aborted after the graph-seed reveal (bounds a server redrawing the graph)',
      )
        .env('CONCORD_AGENT_MAX_ABORTED_ROUNDS')
        .default('3'),
    )
    .addOption(
      new Option('--state-dir <dir>', 'keys, enrollment and local ledger')
        .env('CONCORD_AGENT_STATE_DIR')
        .default(DEFAULT_STATE_DIR),
    )
    .addOption(new Option('--ca <file>', 'PEM CA bundle to trust for https/wss').env('CONCORD_AGENT_CA'))
    .option('--json', 'JSON log lines on stdout, and a JSON summary at the end')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const device = parseChoiceFlag('--device', opts.device as string, DEVICES);
      const threads = parseNumberFlag('--threads', opts.threads as string, { min: 1, max: 256, integer: true });
      const maxConsecutiveAborts = parseNumberFlag('--max-aborted-rounds', opts.maxAbortedRounds as string, {
        min: 1,
        max: 1000,
        integer: true,
      });
      const stateDir = opts.stateDir as string;
      const state = wrap(() => loadSiteState(stateDir));
      const { terms, accountant } = wrap(() => pinnedTerms(state, opts.accountant as string | undefined));
      const cap = wrap(() =>
        lowerCap(state.cap, {
          epsilon:
            opts.maxEpsilon === undefined
              ? undefined
              : parseNumberFlag('--max-epsilon', opts.maxEpsilon as string, { min: 0, minExclusive: true }),
          delta:
            opts.delta === undefined
              ? undefined
              : parseNumberFlag('--delta', opts.delta as string, {
                  min: 0,
                  max: 1,
                  minExclusive: true,
                  maxExclusive: true,
                }),
        }),
      );
      const data = loadSiteData(opts, state.spec);
      const budget = wrap(() =>
        FileBudgetGuard.open({
          stateDir,
          cap,
          identityPublicKey: state.identity.publicKey,
          accountant,
        }),
      );
      if (cap.epsilon !== state.cap.epsilon || cap.delta !== state.cap.delta)
        saveSiteState(stateDir, { ...state, cap });
      const spentBefore = budget.spent();
      if (spentBefore >= cap.epsilon) {
        throw new CliError(
          `the site has spent epsilon ${spentBefore.toFixed(3)} of its cap ${cap.epsilon}: nothing left to spend`,
          1,
          'E_CAP_EXCEEDED',
        );
      }
      const ca = opts.ca ? wrap(() => readText(opts.ca as string, '--ca')) : undefined;

      const progress = createProgressReporter(progressModeFor(Boolean(opts.json)));
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let rounds: number;
      try {
        rounds = await runAgent(
          {
            identity: {
              siteId: state.siteId,
              federationId: state.federationId,
              identitySeed: Buffer.from(state.identity.seed, 'base64'),
              serverPublicKey: state.serverPublicKey,
              terms,
            },
            data,
            budget,
            onEvent: progress.onEvent,
            threads,
            device,
            maxConsecutiveAborts,
          },
          { server: (opts.server as string | undefined) ?? state.server, ca, signal: abort.signal },
        );
      } catch (error) {
        const over = federationOver(error, state.federationId);
        if (over === 'closed') return; // exit 0: the one line is written
        throw over ?? error;
      } finally {
        progress.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      const summary = {
        siteId: state.siteId,
        rounds,
        epsilonSpent: budget.spent(),
        cap,
        charges: budget.history.length,
      };
      // stdout under --json is JSON lines throughout: the summary is the last line
      if (opts.json) process.stdout.write(`${JSON.stringify({ type: 'summary', ...summary })}\n`);
      else
        process.stderr.write(
          `done: ${rounds} rounds, epsilon spent ${summary.epsilonSpent.toFixed(3)} of ${cap.epsilon}\n`,
        );
    });
}

/** The site's data, validated against the federation's schema and preprocessed as the federation says. */
function loadSiteData(opts: Record<string, string | boolean | undefined>, spec: FederationSpec | undefined): Dataset {
  const csv = opts.data as string | undefined;
  const dataset = opts.dataset as string | undefined;
  if (Boolean(csv) === Boolean(dataset))
    throw new CliError('give either --data FILE.csv --label-column NAME or --dataset mnist --shard i/n');
  if (csv) {
    if (!opts.labelColumn) throw new CliError('--label-column is required with --data');
    if (spec?.dataset.kind !== 'table') {
      throw new CliError(
        "this federation's dataset is not a table (or the enrollment holds no federation spec): --data cannot be used",
      );
    }
    return wrap(() =>
      preprocess(
        spec.preprocessing,
        loadCsvDataset(
          csv,
          spec.dataset as Extract<FederationSpec['dataset'], { kind: 'table' }>,
          opts.labelColumn as string,
        ),
      ),
    );
  }
  if (!opts.shard) throw new CliError('--shard i/n is required with --dataset');
  if (spec && spec.dataset.kind !== 'mnist') throw new CliError("this federation's dataset is not mnist: use --data");
  const shard = wrap(() => parseShard(opts.shard as string));
  const seed = parseNumberFlag('--seed', opts.seed as string, { integer: true, min: 0 });
  const plan = spec?.preprocessing ?? FEDERATION_DEFAULTS.mnistPreprocessing;
  return wrap(() => preprocess(plan, loadMnistShard({ ...shard, partition: opts.partition as string, seed })));
}

/**
 * A federation that is over ends the agent with one line: completed or archived, exit 0 (nothing left to do);
 * exhausted (too few sites have budget for another round), exit 1.
 */
function federationOver(error: unknown, federationId: string): CliError | 'closed' | undefined {
  const code = (error as { code?: unknown }).code;
  if (code === 'E_FEDERATION_CLOSED') {
    process.stderr.write(`federation ${federationId} is over (${reasonOf(error)}); nothing to do\n`);
    return 'closed';
  }
  if (code === 'E_FEDERATION_EXHAUSTED') {
    return new CliError(`federation ${federationId} is exhausted (${reasonOf(error)})`, 1, code);
  }
  return undefined;
}

function reasonOf(error: unknown): string {
  return String((error as Error).message).replace(/^(E_[A-Z_]+: )?the aggregator refused the proof: /, '');
}

/** Site-side errors (state, data, ledger) become one CLI line with exit 2, keeping their code. */
function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as { code?: string }).code ?? 'E_USAGE';
    throw new CliError((error as Error).message, 2, code);
  }
}
