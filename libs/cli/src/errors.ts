import { ConcordError } from '@concord/protocol';

/**
 * An error the CLI reports as one line on stderr. Exit codes are the same everywhere:
 * 0 success, 1 a negative answer or findings, 2 bad input or usage.
 */
export class CliError extends ConcordError {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
    override readonly code = 'E_USAGE',
  ) {
    super(code, message);
    this.name = 'CliError';
  }
}
