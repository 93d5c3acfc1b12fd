/** Error codes that cross the boundary to the transport (they are safe to send: they never contain secrets). */
import { ConcordError } from '@concord/protocol';

export type SecAggErrorCode =
  | 'E_BAD_MESSAGE'
  | 'E_BAD_CONFIG'
  | 'E_WRONG_ROUND'
  | 'E_WRONG_STAGE'
  | 'E_UNKNOWN_CLIENT'
  | 'E_REPLAY'
  | 'E_LATE'
  | 'E_BAD_SIGNATURE'
  | 'E_BAD_LENGTH'
  | 'E_DECRYPT_FAILED'
  | 'E_INCONSISTENT_DROPS'
  | 'E_TOO_FEW_SURVIVORS'
  | 'E_RECONSTRUCTION_FAILED'
  | 'E_DUPLICATE_KEY'
  | 'E_ABORTED'
  | 'E_SEED_COMMITMENT'
  | 'E_SEED_REVEAL_MISSING'
  | 'E_SEED_REVEAL_MISMATCH'
  /** a key roster or unmask request names a client outside the receiver's SecAgg+ neighbourhood */
  | 'E_NOT_NEIGHBOUR'
  /** a key roster leaves out a neighbour (neither its advertisement nor listed absent) */
  | 'E_NEIGHBOUR_MISSING'
  /** a peer's public key is not one encoding of a usable point (@concord/protocol keys.ts) */
  | 'E_KEY_ENCODING'
  | 'E_KEY_NONCANONICAL'
  | 'E_KEY_NOT_ON_CURVE'
  | 'E_KEY_SMALL_ORDER'
  | 'E_KEY_LOW_ORDER';

/** A protocol violation or an abort. The message names what was wrong, never a key, seed, share or input. */
export class SecAggError extends ConcordError {
  override readonly code: SecAggErrorCode;
  constructor(code: SecAggErrorCode, message: string) {
    super(code, `${code}: ${message}`);
    this.name = 'SecAggError';
    this.code = code;
  }
}
