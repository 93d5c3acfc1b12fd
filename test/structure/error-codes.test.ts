/**
 * One error base class carrying `code`, and one list of every code: docs/errors.md is generated from the sources by
 * scripts/error-codes.ts. When someone adds a code (or changes its message), this test fails until
 * `npm run docs:errors` is run and the file committed.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CliError } from '@concord/cli';
import { FedOptError } from '@concord/fedopt';
import { ConcordError, FederationSpecError, ProtocolError, ReceiptError } from '@concord/protocol';
import { SecAggError } from '@concord/secagg';
import { DatabaseOpenError } from '../../apps/aggregator/src/db/client.js';
import { RoundFailure } from '../../apps/aggregator/src/federation/stages/round-context.js';
import { LedgerExportError } from '../../apps/aggregator/src/ledger/export.js';
import { KeyFileError } from '../../apps/aggregator/src/repositories/key.repository.js';
import { LedgerError } from '../../apps/aggregator/src/repositories/ledger.repository.js';
import { ServerStartError } from '../../apps/aggregator/src/server.js';
import { EnrollmentError } from '../../apps/aggregator/src/services/enrollment.service.js';
import { OperatorError } from '../../apps/aggregator/src/services/operator-error.js';
import { collectErrorCodes, errorCodesMarkdown } from '../../scripts/error-codes.js';

describe('error codes', () => {
  it('docs/errors.md is up to date (run `npm run docs:errors` after adding or changing a code)', () => {
    const committed = readFileSync(fileURLToPath(new URL('../../docs/errors.md', import.meta.url)), 'utf8');
    expect(committed).toBe(errorCodesMarkdown());
  });

  it('lists the REST codes with their HTTP status and every code with a CLI exit code', () => {
    const rows = new Map(collectErrorCodes().map((r) => [r.code, r]));
    expect(rows.get('E_NOT_FOUND')?.http).toEqual([404]);
    expect(rows.get('E_FEDERATION_SPEC')?.http).toEqual([400]);
    expect(rows.get('E_DB_UNAVAILABLE')?.http).toEqual([503]);
    expect(rows.get('E_RATE_LIMITED')?.http).toEqual([429]);
    for (const row of rows.values()) expect(row.cliExit.length, row.code).toBeGreaterThan(0);
    expect(rows.size).toBeGreaterThan(90);
  });

  it('the coded errors of protocol, secagg, fedopt, cli and the aggregator share the ConcordError base', () => {
    const errors = [
      new FederationSpecError([{ path: 'rounds', message: 'bad' }]),
      new ReceiptError('bad receipt'),
      new ProtocolError('E_BAD_MESSAGE', 'bad'),
      new SecAggError('E_ABORTED', 'stopped'),
      new FedOptError('E_FEDOPT_SPEC', 'bad'),
      new OperatorError('E_NOT_FOUND', 'none'),
      new EnrollmentError('E_BAD_TOKEN', 'bad', 401),
      new LedgerError('E_LEDGER_SIGNATURE', 'bad'),
      new LedgerExportError(3, 'bad'),
      new KeyFileError('bad'),
      new ServerStartError('bad', 'E_TLS'),
      new DatabaseOpenError('bad'),
      new RoundFailure('E_TOO_FEW_SITES', 'few'),
      new CliError('bad flag'),
      new CliError('findings', 1, 'E_LEDGER_CORRUPT'),
    ];
    for (const error of errors) {
      expect(error, error.name).toBeInstanceOf(ConcordError);
      expect(error.code).toMatch(/^E_[A-Z0-9_]+$/);
      expect(error.name).not.toBe('Error');
    }
    expect(() => new ConcordError('not-a-code', 'x')).toThrow(TypeError);
  });
});
