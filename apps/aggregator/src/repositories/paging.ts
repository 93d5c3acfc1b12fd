import { sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';

export interface Page {
  limit: number;
  offset: number;
}

export interface Paged<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** A page of `rows` with the total `count` of the same filter. */
export async function paged<T>(
  rows: Promise<T[]>,
  count: Promise<Array<{ n: number }>>,
  page: Page,
): Promise<Paged<T>> {
  const [items, [{ n }]] = await Promise.all([rows, count]);
  return { items, total: Number(n), ...page };
}

/** `select count(*)` of `table` under `where`. */
export function countOf(db: Db, table: PgTable, where: SQL | undefined) {
  return db
    .select({ n: sql<number>`count(*)::int` })
    .from(table)
    .where(where);
}
