/**
 * postgres.js (3.4.9) can throw from a setImmediate callback when a connection's backend is terminated while a
 * write is pending (porsager/postgres#1154, #1208; upstream fixes #1168, #1176, #1209 unmerged): the error escapes
 * every `await` and would end the aggregator. `patches/postgres+3.4.9.patch` (applied by patch-package at install)
 * turns the TypeError into CONNECTION_CLOSED on the pending queries; a write scheduled on a reserved connection after
 * its close can still surface that CONNECTION_CLOSED as an uncaught exception. Found by `npm run chaos` (issue 16).
 *
 * This guard keeps the process alive for exactly that case: an uncaught error whose code is a connection loss AND
 * whose stack is in the postgres driver's connection module. It is logged as a database fault (the engine retries
 * while the database is unreachable and /health reports it); anything else is still fatal, as before.
 */
const CONNECTION_LOSS = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'ECONNRESET',
  'EPIPE',
]);

export function isDriverConnectionFault(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  const inDriver = /[\\/]postgres[\\/](src|cjs[\\/]src)[\\/]connection\.js/.test(error.stack ?? '');
  return typeof code === 'string' && CONNECTION_LOSS.has(code) && inDriver;
}

/** Installs the guard; `report` logs a survived fault. Returns the uninstaller. */
export function guardDriverConnectionFaults(report: (error: Error) => void): () => void {
  const handler = (error: unknown) => {
    if (isDriverConnectionFault(error)) {
      report(error as Error);
      return;
    }
    // not ours: the default behaviour (print and exit 1), which an 'uncaughtException' listener otherwise disables
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', handler);
  return () => process.off('uncaughtException', handler);
}
