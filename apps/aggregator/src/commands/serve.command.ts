import { type Command, Option } from 'commander';
import { loadServerConfig } from '../config/load-config.js';
import { guardDriverConnectionFaults } from '../db/driver-fault-guard.js';
import { appLogger } from '../repositories/logger.repository.js';
import { startServer } from '../server.js';

export function register(program: Command): void {
  program
    .command('serve')
    .description('run the aggregator: REST API, socket.io gateway for agents, dashboard')
    .addOption(
      new Option('--port <port>', 'TCP port; 0 picks a free one (env CONCORD_PORT)').default(undefined, '3000'),
    )
    .addOption(new Option('--host <host>', 'address to bind (env CONCORD_HOST)').default(undefined, '127.0.0.1'))
    .addOption(
      new Option(
        '--data-dir <dir>',
        'embedded PGlite data directory, used without a database URL (env CONCORD_DATA_DIR)',
      ).default(undefined, './.concord/data'),
    )
    .addOption(new Option('--database-url <url>', 'PostgreSQL server URL (env CONCORD_DATABASE_URL or DATABASE_URL)'))
    .addOption(
      new Option(
        '--key-dir <dir>',
        'directory of the aggregator signing and watermark keys (env CONCORD_KEY_DIR)',
      ).default(undefined, './.concord/keys'),
    )
    .addOption(new Option('--tls-cert <file>', 'PEM certificate: serve HTTPS/WSS (env CONCORD_TLS_CERT)'))
    .addOption(new Option('--tls-key <file>', 'PEM private key for --tls-cert (env CONCORD_TLS_KEY)'))
    .addOption(new Option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env CONCORD_LOG_LEVEL)'))
    .addOption(
      new Option('--metrics-auth <mode>', 'none | api-key: who may read /metrics (env CONCORD_METRICS_AUTH)').default(
        undefined,
        'none',
      ),
    )
    .addOption(new Option('--config <file>', 'JSON or YAML file of settings, lowest precedence (env CONCORD_CONFIG)'))
    .action(async (opts: Record<string, string | undefined>) => {
      const config = loadServerConfig({
        flags: {
          port: opts.port,
          host: opts.host,
          dataDir: opts.dataDir,
          databaseUrl: opts.databaseUrl,
          keyDir: opts.keyDir,
          tlsCert: opts.tlsCert,
          tlsKey: opts.tlsKey,
          logLevel: opts.logLevel,
          metricsAuth: opts.metricsAuth,
        },
        env: process.env,
        file: opts.config ?? process.env.CONCORD_CONFIG,
      });
      // a connection loss the postgres driver throws outside any await is a database fault, not a crash
      guardDriverConnectionFaults((error) =>
        appLogger().warn(
          { event: 'database.connection-lost', code: (error as { code?: string }).code },
          'a database connection was lost outside a query; the engine retries',
        ),
      );
      const server = await startServer({ config });
      process.stdout.write(`listening on ${server.url}\n`);
      const stop = () => void server.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
