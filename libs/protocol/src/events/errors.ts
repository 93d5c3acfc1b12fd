/**
 * Error codes that cross the agent <-> aggregator boundary. They are sent in acknowledgements and abort messages,
 * so they never carry secrets: a code and a short human reason.
 */
import { ConcordError } from '../concord-error.js';

export const PROTOCOL_ERROR_CODES = [
  'E_VERSION',
  'E_BAD_MESSAGE',
  'E_TOO_LARGE',
  'E_UNAUTHENTICATED',
  'E_BAD_SIGNATURE',
  'E_REPLAY',
  'E_UNKNOWN_SITE',
  'E_SITE_SUSPENDED',
  'E_BAD_TOKEN',
  'E_TOKEN_EXPIRED',
  'E_TOKEN_USED',
  'E_CAP_EXCEEDED',
  'E_CAP_RAISE',
  'E_PLAN_EXPIRED',
  'E_UNSUPPORTED_PLAN',
  'E_WRONG_ROUND',
  'E_NOT_IN_ROUND',
  'E_TIMEOUT',
  'E_ROUND_ABORTED',
  'E_INTERNAL',
] as const;
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

/** A coded protocol failure; `code` is safe to show the other side. */
export class ProtocolError extends ConcordError {
  constructor(
    override readonly code: ProtocolErrorCode | (string & {}),
    message: string,
  ) {
    super(code, `${code}: ${message}`);
    this.name = 'ProtocolError';
  }
}
