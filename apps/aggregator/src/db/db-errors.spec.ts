import { describe, expect, it } from 'vitest';
import { databaseFailureReason, isDatabaseUnavailable, mapDatabaseError, sqlStateOf } from './db-errors.js';

// drizzle wraps the driver's error: "Failed query: <sql>" with the driver's error (code) as its cause
const wrapped = (cause: object) =>
  Object.assign(new Error('Failed query: insert into "sites" ("name") values ($1)'), { cause });

describe('database errors', () => {
  it('sees a lost connection through drizzle’s wrapper (socket codes, postgres.js codes, 57P01, class 08)', () => {
    for (const code of ['ECONNREFUSED', 'CONNECTION_CLOSED', '57P01', '57P03', '08006']) {
      expect(isDatabaseUnavailable(wrapped({ code })), code).toBe(true);
    }
    expect(isDatabaseUnavailable(wrapped({ code: '23505' }))).toBe(false);
    expect(isDatabaseUnavailable(new Error('plain'))).toBe(false);
  });

  it('maps SQLSTATEs to coded answers that name no SQL', () => {
    expect(mapDatabaseError(wrapped({ code: 'ECONNRESET' }))).toMatchObject({ status: 503, code: 'E_DB_UNAVAILABLE' });
    expect(mapDatabaseError(wrapped({ code: '23505' }))).toMatchObject({ status: 409, code: 'E_CONFLICT' });
    expect(mapDatabaseError(wrapped({ code: '23503' }))).toMatchObject({ status: 409 });
    expect(mapDatabaseError(wrapped({ code: '22021' }))).toMatchObject({ status: 400, code: 'E_BAD_REQUEST' });
    expect(mapDatabaseError(wrapped({ code: '22P02' }))).toMatchObject({ status: 400 });
    expect(mapDatabaseError(wrapped({ code: '42P01' }))).toBeUndefined(); // a bug stays a 500
    expect(mapDatabaseError(new Error('x'))).toBeUndefined();
    for (const code of ['ECONNRESET', '23505', '22021']) {
      expect(JSON.stringify(mapDatabaseError(wrapped({ code })))).not.toMatch(/insert|sites|\$1/);
    }
    expect(sqlStateOf(wrapped({ code: '22021' }))).toBe('22021');
  });

  it('gives a round failure reason without the query', () => {
    expect(databaseFailureReason(wrapped({ code: '57P01' }))).toMatch(/^E_DB_UNAVAILABLE/);
    expect(databaseFailureReason(wrapped({ code: '23505' }))).toBe(
      'E_DB_ERROR: the database refused a statement (SQLSTATE 23505)',
    );
    expect(databaseFailureReason(new Error('Failed query: select 1'))).toBe('E_DB_ERROR: a database query failed');
    expect(databaseFailureReason(new Error('E_TOO_FEW_SITES: x'))).toBeUndefined();
  });
});
