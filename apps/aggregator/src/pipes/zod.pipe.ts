import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { parseInput } from '../services/operator-error.js';

/**
 * Parses one request part (a path parameter, the query or the body) with a zod schema at the edge, so services take
 * typed values. A bad value is a coded 400 (E_BAD_REQUEST) naming `where` and every bad field's path. `whenAbsent`
 * stands in for an absent value (an optional body).
 */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    private readonly schema: S,
    private readonly where: string,
    private readonly whenAbsent?: unknown,
  ) {}

  transform(value: unknown): z.output<S> {
    return parseInput(this.schema, value ?? this.whenAbsent, this.where);
  }
}
