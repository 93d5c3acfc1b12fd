import { randomBytes } from 'node:crypto';
import { type Command, Option } from 'commander';
import { parseNumberFlag } from '@concord/cli';
import { apiKeys } from '../db/schema/api-keys.js';
import { DatabaseRepository } from '../repositories/database.repository.js';
import { hashApiKey } from '../services/api-key.service.js';
import { runSimulation } from '../simulation/simulation.js';

/**
 * `npm start`: the aggregator and 10 simulated MNIST sites (real agents over loopback socket.io, on a thread pool)
 * on an in-memory PGlite; prints the dashboard URL and a demo admin API key; runs until stopped (Ctrl-C).
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('run the aggregator with 10 simulated MNIST sites on embedded Postgres until stopped')
    .addOption(new Option('--sites <n>', 'simulated sites (env CONCORD_DEMO_SITES)').default(undefined, '10'))
    .addOption(new Option('--rounds <r>', 'rounds to run (env CONCORD_DEMO_ROUNDS)').default(undefined, '50'))
    .addOption(new Option('--dp <mode>', 'local | distributed | none').default('local'))
    .action(async (opts: { sites?: string; rounds?: string; dp: string }) => {
      const sites = parseNumberFlag('--sites', opts.sites ?? process.env.CONCORD_DEMO_SITES ?? '10', {
        integer: true,
        min: 2,
        max: 50,
      });
      const rounds = parseNumberFlag('--rounds', opts.rounds ?? process.env.CONCORD_DEMO_ROUNDS ?? '50', {
        integer: true,
        min: 1,
      });
      const mode = opts.dp === 'distributed' ? 'distributed' : opts.dp === 'none' ? 'none' : 'local';
      const running: { close?: () => Promise<void> } = {};
      const stop = () => {
        // In-memory demo: nothing to persist; close what is open and leave.
        void (running.close?.() ?? Promise.resolve()).finally(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const result = await runSimulation({
        sites,
        rounds,
        partition: 'iid',
        mode,
        epsilon: 3,
        delta: 1e-5,
        accountant: 'rdp',
        dropout: 0,
        seed: 0,
        agents: 'virtual',
        keepRunning: true,
        onReady: async (server, federationId) => {
          const key = `concord_demo_${randomBytes(24).toString('base64url')}`;
          await server.app
            .get(DatabaseRepository)
            .db.insert(apiKeys)
            .values({ keyHash: hashApiKey(key), name: 'demo admin', role: 'admin' });
          process.stdout.write(`Concord demo: ${sites} simulated MNIST sites, ${mode} DP, epsilon 3 per site\n`);
          process.stdout.write(`dashboard: ${server.url}/\n`);
          process.stdout.write(`admin API key (demo only): ${key}\n`);
          process.stdout.write(`federation: ${federationId}\n`);
        },
        onRound: (r) =>
          process.stdout.write(
            r.state === 'released' && r.evaluation
              ? `round ${r.roundNumber} evaluated model version ${r.modelVersion} privately: accuracy ${r.evaluation.accuracy?.toFixed(4) ?? '?'} ± ${r.evaluation.std.accuracy?.toFixed(4) ?? '?'} (noise std, ${r.survivors}/${r.cohort} sites)\n`
              : r.state === 'released'
                ? `round ${r.roundNumber} released: accuracy ${r.accuracy?.toFixed(4) ?? '?'} (${r.survivors}/${r.cohort} sites)\n`
                : `round ${r.roundNumber} failed: ${r.reason ?? ''}\n`,
          ),
      });
      process.stdout.write(
        `all ${result.rounds} rounds done: accuracy ${result.accuracy.toFixed(4)}, epsilon ${result.epsilon.toFixed(3)}; still serving ${result.server.url} (Ctrl-C to stop)\n`,
      );
      running.close = result.close;
    });
}
