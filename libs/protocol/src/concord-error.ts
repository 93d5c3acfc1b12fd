/**
 * The one base class of Concord's coded errors: every refusal carries a stable `code` (E_...) that callers branch on
 * and that docs/errors.md lists with its meaning, its HTTP status (REST codes) and its CLI exit code
 * (`npm run docs:errors` regenerates the list; test/structure/error-codes.test.ts fails when it is stale).
 * Argument guards that must stay TypeError/RangeError (noble-style pure libraries) carry a `code` too but cannot
 * share this base (JavaScript has single inheritance).
 */
export class ConcordError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    if (typeof code !== 'string' || !/^E_[A-Z0-9_]+$/.test(code)) throw new TypeError(`code must match E_[A-Z0-9_]+`);
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True for any error carrying a string `code`: a ConcordError or a coded TypeError/RangeError guard. */
export function isCodedError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
}
