/**
 * What a database error means to a caller, without its text: drizzle wraps the driver's error as "Failed query:
 * <sql>", so the message is never shown; only the SQLSTATE (PostgreSQL and PGlite) or the connection code
 * (postgres.js, Node sockets) found on the error or its causes is read.
 */

/** postgres.js and Node socket codes meaning the server cannot be reached right now. */
const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server going away or not accepting work: class 08 (connection exception), 57P01 admin_shutdown
 * (pg_terminate_backend, fast shutdown), 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up), 53300
 * too_many_connections.
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current != null && typeof current === 'object'; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/** True when `error` (or a cause of it) says the database is unreachable or refusing connections for now. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return codesOf(error).some((c) => CONNECTION_CODES.has(c) || UNAVAILABLE_STATES.has(c) || /^08[0-9A-Z]{3}$/.test(c));
}

/** The SQLSTATE carried by `error` or a cause of it (5 characters), if any. */
export function sqlStateOf(error: unknown): string | undefined {
  return codesOf(error).find((c) => /^[0-9A-Z]{5}$/.test(c));
}

export interface MappedDatabaseError {
  status: number;
  code: string;
  message: string;
}

/**
 * A coded HTTP refusal for a database error, or undefined when it is not one (a bug: 500). Unreachable -> 503
 * E_DB_UNAVAILABLE; class 22 (data exception: NUL in text, bad uuid, out of range) -> 400; class 23 (integrity:
 * unique, foreign key, check) -> 409; 54 (program limit: too deep, too long) -> 400. Messages name no SQL.
 */
export function mapDatabaseError(error: unknown): MappedDatabaseError | undefined {
  if (isDatabaseUnavailable(error)) {
    return { status: 503, code: 'E_DB_UNAVAILABLE', message: 'the database is unreachable; retry later' };
  }
  const state = sqlStateOf(error);
  if (!state) return undefined;
  if (state === '23505') return { status: 409, code: 'E_CONFLICT', message: 'a record with this value already exists' };
  if (state.startsWith('23'))
    return { status: 409, code: 'E_CONFLICT', message: 'the change conflicts with stored data' };
  if (state.startsWith('22') || state === '42P18' || state.startsWith('54')) {
    return { status: 400, code: 'E_BAD_REQUEST', message: 'a value was refused by the database' };
  }
  return undefined;
}

/**
 * A round's failure reason for a database error, without the SQL drizzle's message carries (the reason is stored
 * and served by the rounds API); undefined for other errors.
 */
export function databaseFailureReason(error: unknown): string | undefined {
  if (isDatabaseUnavailable(error)) return 'E_DB_UNAVAILABLE: the database was unreachable during this round';
  const state = sqlStateOf(error);
  if (state) return `E_DB_ERROR: the database refused a statement (SQLSTATE ${state})`;
  if (error instanceof Error && /^Failed query/.test(error.message)) return 'E_DB_ERROR: a database query failed';
  return undefined;
}
