import { ConcordError } from '@concord/protocol';
import type { z } from 'zod';

export type OperatorErrorCode =
  'E_BAD_REQUEST' | 'E_FEDERATION_SPEC' | 'E_NOT_FOUND' | 'E_CONFLICT' | 'E_UNAUTHENTICATED' | 'E_FORBIDDEN';

const STATUS: Record<OperatorErrorCode, number> = {
  E_BAD_REQUEST: 400,
  E_FEDERATION_SPEC: 400,
  E_NOT_FOUND: 404,
  E_CONFLICT: 409,
  E_UNAUTHENTICATED: 401,
  E_FORBIDDEN: 403,
};

/** A refusal of the dashboard API, with the HTTP status it maps to. Messages never carry keys or tokens. */
export class OperatorError extends ConcordError {
  readonly status: number;
  constructor(
    override readonly code: OperatorErrorCode,
    message: string,
    readonly issues?: { path: string; message: string }[],
  ) {
    super(code, message);
    this.name = 'OperatorError';
    this.status = STATUS[code];
  }
}

/** Parses `value` with `schema`, or throws E_BAD_REQUEST naming `where` and every bad field's path. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join('.'),
    message: i.message,
  }));
  throw new OperatorError(
    'E_BAD_REQUEST',
    `invalid ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    issues,
  );
}
