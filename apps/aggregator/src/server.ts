import { ConcordError } from '@concord/protocol';
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { AppModule } from './app.module.js';
import { type ServerConfig } from './config/config.schema.js';
import { type Database, openDatabase } from './db/client.js';
import { setupOperatorSurface } from './modules/operator.setup.js';

export interface RunningServer {
  app: INestApplication;
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  close(): Promise<void>;
}

/**
 * Opens the configured database and applies the committed migrations; closes it again if that fails. A PGlite one
 * may start from a dumped data directory (`pgliteLoadDataDir`, e.g. db/pglite-template.ts).
 */
export async function openMigratedDatabase(
  config: Pick<ServerConfig, 'databaseUrl' | 'dataDir'>,
  pgliteLoadDataDir?: Blob,
): Promise<Database> {
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, pgliteLoadDataDir });
  try {
    await database.migrate();
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  return database;
}

/**
 * Boots the aggregator (REST + socket.io) and listens; resolves once it accepts connections. Without `database`,
 * one is opened from the config before Nest starts, so a bad URL is one clear error rather than a DI stack trace.
 */
export async function startServer(options: { config: ServerConfig; database?: Database }): Promise<RunningServer> {
  const { config } = options;
  const httpsOptions = config.tlsCert && config.tlsKey ? readTls(config.tlsCert, config.tlsKey) : undefined;
  // before Nest, whose own (coloured) log line would come on top of ours
  await assertPortFree(config.port, config.host);
  const database = options.database ?? (await openMigratedDatabase(config));
  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(AppModule.register({ config, database }), {
      httpsOptions,
      logger: config.logLevel === 'silent' ? false : ['error', 'warn'],
      abortOnError: false,
    });
    app.useWebSocketAdapter(new IoAdapter(app));
    setupOperatorSurface(app, config);
    app.enableShutdownHooks();
    await app.listen(config.port, config.host);
  } catch (error) {
    if (app) await app.close().catch(() => {});
    else await database.close().catch(() => {});
    throw error;
  }
  const address = app.getHttpServer().address() as { port: number };
  const scheme = httpsOptions ? 'https' : 'http';
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const running = app;
  return { app, url: `${scheme}://${host}:${address.port}`, close: () => running.close() };
}

/** A coded error for what stops the server from starting (unreadable TLS files, for instance). */
export class ServerStartError extends ConcordError {
  constructor(
    message: string,
    override readonly code: string,
  ) {
    super(code, message);
    this.name = 'ServerStartError';
  }
}

/** A port another process holds is one coded line (E_PORT_IN_USE), not a stack of framework errors. */
async function assertPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new ServerStartError(
            `port ${port} on ${host} is already in use: stop what listens there or choose another --port`,
            'E_PORT_IN_USE',
          ),
        );
      } else resolve(); // anything else (e.g. EACCES) is left to the real listen, which reports it
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

function readTls(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ServerStartError(`cannot read TLS ${what} ${file}: ${(error as NodeJS.ErrnoException).code}`, 'E_TLS');
    }
  };
  return { cert: read(certFile, 'certificate'), key: read(keyFile, 'key') };
}
