import { describe, expect, it } from 'vitest';
import { isDriverConnectionFault } from './driver-fault-guard.js';

const fault = (code: string, frame: string) =>
  Object.assign(new Error(`write ${code} 127.0.0.1:5432`), {
    code,
    stack: `Error: write ${code}\n    at nextWrite (${frame}:261:20)`,
  });

describe('isDriverConnectionFault', () => {
  it('matches a connection loss thrown from the postgres driver only', () => {
    expect(isDriverConnectionFault(fault('CONNECTION_CLOSED', '/app/node_modules/postgres/src/connection.js'))).toBe(
      true,
    );
    expect(isDriverConnectionFault(fault('ECONNRESET', '/app/node_modules/postgres/cjs/src/connection.js'))).toBe(true);
    expect(isDriverConnectionFault(fault('CONNECTION_CLOSED', '/app/src/other.js'))).toBe(false);
    expect(isDriverConnectionFault(fault('E_SOMETHING', '/app/node_modules/postgres/src/connection.js'))).toBe(false);
    expect(isDriverConnectionFault(new TypeError("Cannot read properties of null (reading 'write')"))).toBe(false);
    expect(isDriverConnectionFault('CONNECTION_CLOSED')).toBe(false);
  });
});
