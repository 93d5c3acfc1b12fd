import { applyDecorators } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import { z } from 'zod';

/** An @ApiBody option from a zod schema (zod 4's JSON Schema export), so the docs and the parser never disagree. */
export function openApiBody(schema: z.ZodType): { schema: Record<string, unknown> } {
  // OpenAPI 3.0 (what the document declares): no JSON Schema 2020-12 keywords such as propertyNames
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return { schema: json };
}

/** OpenAPI description of a paginated list's query: limit, offset and the filters named. */
export function ApiPagedQuery(filters: Record<string, readonly string[] | 'string'> = {}) {
  return applyDecorators(
    ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } }),
    ApiQuery({ name: 'offset', required: false, schema: { type: 'integer', minimum: 0, default: 0 } }),
    ...Object.entries(filters).map(([name, values]) =>
      ApiQuery({
        name,
        required: false,
        schema: values === 'string' ? { type: 'string' } : { type: 'string', enum: [...values] },
      }),
    ),
  );
}
