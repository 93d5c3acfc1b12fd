import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { parseFederationSpecText } from '@concord/fedopt';
import { FEDERATION_DEFAULTS } from '@concord/protocol';
import { CliError, parseChoiceFlag, parseNumberFlag, printJson } from '@concord/cli';
import type { SimulationResult } from '../simulation/sim-options.js';
import { runSimulation } from '../simulation/simulation.js';
import { writeSimulationOutputs } from '../simulation/outputs.js';
import { profileTable, roundProfile, summarizeProfiles } from '../simulation/round-profile.js';
import { SIM_DATASETS } from '../simulation/sim-table.js';

const MODES = ['none', 'local', 'distributed'] as const;
const ACCOUNTANTS = ['rdp', 'prv'] as const;
const AGENTS = ['virtual', 'thread-per-site'] as const;
/** a thread per site costs ~1 s of start-up and ~40 MB each: beyond this, use virtual agents */
const MAX_THREAD_SITES = 200;

export function register(program: Command): void {
  program
    .command('simulate')
    .description('run a whole federation on this machine: a real aggregator and N real agents over loopback socket.io')
    .addOption(
      new Option('--spec <file>', 'federation spec (YAML or JSON, docs/federation-spec.md); flags override its fields'),
    )
    .addOption(new Option('--sites <n>', 'number of simulated sites (env CONCORD_SIM_SITES)').default(undefined, '10'))
    .addOption(
      new Option('--cohort <n>', 'sites drawn per round; all sites stay connected (env CONCORD_SIM_COHORT)').default(
        undefined,
        'all sites',
      ),
    )
    .addOption(
      new Option(
        '--agents <runtime>',
        'virtual (agent runtimes on a pool of threads sized to the cores) | thread-per-site (comparison, <= 200 sites)',
      ).default('virtual'),
    )
    .addOption(
      new Option('--rounds <r>', 'rounds to release (env CONCORD_SIM_ROUNDS)').default(
        undefined,
        `${FEDERATION_DEFAULTS.local.rounds} (local), ${FEDERATION_DEFAULTS.distributed.rounds} (distributed), ${FEDERATION_DEFAULTS.none.rounds} (none); tables: the plan's tabular defaults`,
      ),
    )
    .addOption(
      new Option('--dataset <name>', 'mnist, or a vendored table (binary, ROC AUC): adult | mammography').default(
        'mnist',
      ),
    )
    .addOption(
      new Option(
        '--partition <scheme>',
        'iid | dirichlet:ALPHA | classes:K | by-column:NAME (tables) (env CONCORD_SIM_PARTITION)',
      ).default(undefined, 'iid'),
    )
    .addOption(
      new Option('--epsilon <e>', 'target epsilon per site over all rounds (env CONCORD_SIM_EPSILON)').default(
        undefined,
        '3',
      ),
    )
    .addOption(new Option('--delta <d>', 'delta (env CONCORD_SIM_DELTA)').default(undefined, '1e-5'))
    .addOption(new Option('--dp <mode>', 'none | local | distributed (env CONCORD_SIM_DP)').default(undefined, 'local'))
    .addOption(new Option('--accountant <name>', 'rdp | prv (env CONCORD_SIM_ACCOUNTANT)').default(undefined, 'rdp'))
    .addOption(new Option('--secagg-k <k>', 'SecAgg+ neighbours per site (even, or sites-1)'))
    .addOption(
      new Option('--dropout <p>', 'probability a site drops before masking, per round').default(undefined, '0'),
    )
    .addOption(new Option('--seed <s>', 'seed of the data split and partition').default(undefined, '0'))
    .addOption(
      new Option('--database-url <url>', 'PostgreSQL URL (default: in-memory PGlite; DATABASE_URL is ignored)'),
    )
    .option(
      '--reproducible',
      'derive every random draw from --seed (initial weights, site keys and splits, batch order, DP noise, rounding; the watermark is off): to compare runtimes, never for privacy (a known seed makes the noise known); the site keys repeat, so use it with the in-memory database or a fresh one',
    )
    .option('--json', 'print one JSON object at the end, nothing else on stdout')
    .addOption(
      new Option('--out <dir>', 'write model.safetensors, watermark-key.json, certificate.json, fingerprints/'),
    )
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const env = process.env;
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      let spec: Record<string, unknown> | undefined;
      if (typeof opts.spec === 'string') {
        let text: string;
        try {
          text = readFileSync(opts.spec, 'utf8');
        } catch (error) {
          throw new CliError(
            `--spec: cannot read '${opts.spec}' (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
          );
        }
        try {
          spec = parseFederationSpecText(text) as unknown as Record<string, unknown>;
        } catch (error) {
          throw new CliError(`--spec: ${(error as Error).message}`);
        }
        const kind = (spec.dataset as { kind?: string }).kind;
        if ((kind === 'mnist') !== ((opts.dataset ?? 'mnist') === 'mnist'))
          throw new CliError(`--spec: its ${kind} dataset does not match --dataset ${String(opts.dataset)}`);
      }
      const fromSpec = (spec ?? {}) as {
        rounds?: number;
        cohort?: { size?: number };
        privacy?: { mode?: string; epsilon?: number; delta?: number; accountant?: string };
      };
      const specText = (v: number | string | undefined) => (v === undefined ? undefined : String(v));
      const sites = parseNumberFlag(
        '--sites',
        str(opts.sites) ?? env.CONCORD_SIM_SITES ?? specText(fromSpec.cohort?.size) ?? '10',
        {
          integer: true,
          min: 2,
          max: 10_000,
        },
      );
      const agents = parseChoiceFlag('--agents', str(opts.agents) ?? 'virtual', AGENTS);
      if (agents === 'thread-per-site' && sites > MAX_THREAD_SITES)
        throw new CliError(`--agents thread-per-site runs at most ${MAX_THREAD_SITES} sites; use virtual agents`);
      const cohortText = str(opts.cohort) ?? env.CONCORD_SIM_COHORT;
      const cohort =
        cohortText === undefined
          ? undefined
          : parseNumberFlag('--cohort', cohortText, { integer: true, min: 2, max: sites });
      const dataset = parseChoiceFlag('--dataset', str(opts.dataset) ?? 'mnist', SIM_DATASETS);
      const isTable = dataset !== 'mnist';
      const partition = str(opts.partition) ?? env.CONCORD_SIM_PARTITION ?? 'iid';
      if (!/^(iid|dirichlet:[0-9.eE+-]+|classes:\d+|by-column:[A-Za-z0-9_.-]+)$/.test(partition)) {
        throw new CliError(`--partition must be iid, dirichlet:ALPHA, classes:K or by-column:NAME, got '${partition}'`);
      }
      if (partition.startsWith('by-column:') && !isTable) {
        throw new CliError('--partition by-column:NAME needs a table (--dataset adult | mammography)');
      }
      const mode = parseChoiceFlag(
        '--dp',
        str(opts.dp) ?? env.CONCORD_SIM_DP ?? fromSpec.privacy?.mode ?? 'local',
        MODES,
      );
      // without a flag, env or spec value: the tuned number of rounds for the mode (docs/benchmarks.md)
      // (tables: left to the plan, whose tabular defaults differ by mode)
      const roundsText =
        str(opts.rounds) ??
        env.CONCORD_SIM_ROUNDS ??
        specText(fromSpec.rounds) ??
        (isTable ? undefined : String(FEDERATION_DEFAULTS[mode].rounds));
      const rounds =
        roundsText === undefined
          ? undefined
          : parseNumberFlag('--rounds', roundsText, { integer: true, min: 1, max: 100_000 });
      const epsilon = parseNumberFlag(
        '--epsilon',
        str(opts.epsilon) ?? env.CONCORD_SIM_EPSILON ?? specText(fromSpec.privacy?.epsilon) ?? '3',
        {
          min: 0,
          minExclusive: true,
        },
      );
      const delta = parseNumberFlag(
        '--delta',
        str(opts.delta) ?? env.CONCORD_SIM_DELTA ?? specText(fromSpec.privacy?.delta) ?? '1e-5',
        {
          min: 0,
          max: 1,
          minExclusive: true,
          maxExclusive: true,
        },
      );
      const accountant = parseChoiceFlag(
        '--accountant',
        str(opts.accountant) ?? env.CONCORD_SIM_ACCOUNTANT ?? fromSpec.privacy?.accountant ?? 'rdp',
        ACCOUNTANTS,
      );
      const secaggNeighbours =
        opts.secaggK === undefined
          ? undefined
          : parseNumberFlag('--secagg-k', str(opts.secaggK), { integer: true, min: 2, max: (cohort ?? sites) - 1 });
      if (secaggNeighbours !== undefined && secaggNeighbours !== (cohort ?? sites) - 1 && secaggNeighbours % 2 === 1) {
        throw new CliError(`--secagg-k must be even or cohort-1 (${(cohort ?? sites) - 1}), got ${secaggNeighbours}`);
      }
      const dropout = parseNumberFlag('--dropout', str(opts.dropout) ?? '0', { min: 0, max: 1, maxExclusive: true });
      const seed = parseNumberFlag('--seed', str(opts.seed) ?? '0', { integer: true, min: 0 });
      const databaseUrl = str(opts.databaseUrl);
      if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
        throw new CliError('--database-url must be a postgres:// or postgresql:// URL');
      }
      const json = opts.json === true;
      const say = (line: string) => (json ? process.stderr : process.stdout).write(line + '\n');

      let result: SimulationResult;
      try {
        result = await runSimulation({
          sites,
          cohort,
          dataset,
          rounds,
          partition,
          mode,
          epsilon,
          delta,
          accountant,
          dropout,
          seed,
          reproducible: opts.reproducible === true,
          secaggNeighbours,
          databaseUrl,
          agents: agents === 'virtual' ? 'virtual' : 'workers',
          spec,
          onRound: (r) => {
            const acc = r.accuracy === undefined ? '' : `  accuracy ${r.accuracy.toFixed(4)}`;
            const seconds = (Object.values(r.timings).reduce((a, b) => a + b, 0) / 1000).toFixed(1);
            if (r.state === 'released' && r.evaluation) {
              const e = r.evaluation;
              const accuracy =
                e.accuracy === undefined ? '' : `  accuracy ${e.accuracy.toFixed(4)} ± ${e.std.accuracy!.toFixed(4)}`;
              say(
                `round ${r.roundNumber}  evaluated v${r.modelVersion}${accuracy}  loss ${e.loss.toFixed(4)} ± ${e.std.loss.toFixed(4)}  (private, ± noise std)  ${seconds} s`,
              );
            } else if (r.state === 'released') {
              say(
                `round ${r.roundNumber}  released v${r.modelVersion}${acc}  survivors ${r.survivors}/${r.cohort}  ${seconds} s`,
              );
            } else say(`round ${r.roundNumber}  failed (${r.reason ?? 'unknown'})  ${seconds} s`);
          },
        });
      } catch (error) {
        const e = error as { code?: string; message?: string };
        if (e.code === 'E_DP_BUDGET' || error instanceof RangeError)
          throw new CliError(`simulate: ${e.message}`, 2, e.code ?? 'E_USAGE');
        throw new CliError(`simulate failed: ${e.message ?? String(error)}`, 1, e.code ?? 'E_SIMULATION');
      }
      const outputs = typeof opts.out === 'string' ? await writeSimulationOutputs(opts.out, result) : undefined;
      const summary = {
        dataset,
        accuracy: result.accuracy,
        ...(result.binary ? { binary: result.binary } : {}),
        epsilon: result.epsilon,
        delta: result.delta,
        mode: result.mode,
        rounds: result.rounds,
        seconds: result.seconds,
        failedRounds: result.failedRounds,
        loss: result.loss,
        sites,
        partition,
        accountant,
        perSiteEpsilon: result.perSiteEpsilon,
        ledger: { entries: result.ledgerEntries, verified: result.ledgerVerified },
        ...(result.pool ? { cohort: cohort ?? sites, pool: result.pool } : {}),
        roundAccuracy: result.roundReports
          .filter((r) => r.state === 'released' && r.kind === 'training')
          .map((r) => r.accuracy ?? null),
        // private evaluations: noisy metric, the std of its noise, the exact metric on the union of validation splits
        evaluations: result.evaluations ?? [],
        roundSeconds: result.roundReports.map((r) => Object.values(r.timings).reduce((a, b) => a + b, 0) / 1000),
        // wall / CPU / main-thread busy ms per stage (federation/stages/stopwatch.ts); CPU counts the agents' threads too
        roundProfiles: result.roundReports.map(roundProfile),
        profile: summarizeProfiles(result.roundReports),
        ...(outputs ? { out: outputs } : {}),
      };
      if (json) printJson(summary);
      else {
        say(
          `final accuracy ${result.accuracy.toFixed(4)} on ${result.testCount.toLocaleString('en')} held-out ${isTable ? 'rows' : 'digits'}; ${result.rounds} rounds (${result.failedRounds} failed) in ${result.seconds.toFixed(1)} s`,
        );
        const b = result.binary;
        if (b)
          say(
            `ROC AUC ${b.rocAuc.toFixed(4)}, PR AUC ${b.prAuc.toFixed(4)}, log-loss ${b.logLoss.toFixed(4)} (${b.positives} positives)`,
          );
        say(`ledger: ${result.ledgerEntries} entries, ${result.ledgerVerified ? 'verified' : 'VERIFICATION FAILED'}`);
        for (const [site, eps] of Object.entries(result.perSiteEpsilon))
          say(`  ${site}: epsilon ${eps.toFixed(4)} (delta ${delta})`);
        for (const e of result.evaluations ?? []) {
          if (e.noisy.accuracy === undefined) continue;
          say(
            `  private evaluation of v${e.modelVersion}: accuracy ${e.noisy.accuracy.toFixed(4)} ± ${e.std.accuracy!.toFixed(4)} (noise std); exact on the union of validation splits ${e.exact.accuracy!.toFixed(4)} (${e.deviations.accuracy!.toFixed(2)} std apart)`,
          );
        }
        if (outputs) say(`wrote ${Object.values(outputs).join(', ')}`);
        say('');
        for (const line of profileTable(summary.profile)) say(line);
        say("(CPU is the whole process, agents' worker threads included; busy is the aggregator's main thread)");
      }
      if (!result.ledgerVerified) process.exitCode = 1;
    });
}
