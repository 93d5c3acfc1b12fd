import { eq } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseOpenError, openDatabase } from '../../apps/aggregator/src/db/client.js';
import { federations, modelVersions } from '../../apps/aggregator/src/db/schema/index.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';

for (const target of databaseTargets()) {
  describe.skipIf(target.skip)(`openDatabase on ${target.name}`, () => {
    let database: TestDatabase;

    beforeAll(async () => {
      database = await target.open({ migrate: false });
    });
    afterAll(async () => {
      await database?.dispose();
    });

    it('reports migrations missing, then applies them once and reports them applied', async () => {
      expect(database.driver).toBe(target.name);
      expect(await database.ping()).toBe(true);
      expect(await database.migrationsApplied()).toBe(false);
      await database.migrate();
      expect(await database.migrationsApplied()).toBe(true);
      await database.migrate(); // idempotent
      expect(await database.migrationsApplied()).toBe(true);
    });

    it('round-trips jsonb as objects and bytea as bytes through the same query code', async () => {
      const spec = { model: 'mlp', layers: [784, 128, 10], dp: { sampleRate: 0.01, delta: 1e-5 } };
      const [federation] = await database.db.insert(federations).values({ name: 'roundtrip', spec }).returning();
      const weights = new Uint8Array(4096).map((_, i) => (i * 31) & 0xff);
      await database.db.insert(modelVersions).values({
        federationId: federation.id,
        version: 1,
        sha256: 'a'.repeat(64),
        sizeBytes: weights.length,
        weights,
      });
      const [stored] = await database.db.select().from(federations).where(eq(federations.id, federation.id));
      expect(stored.spec).toEqual(spec);
      const [model] = await database.db
        .select()
        .from(modelVersions)
        .where(eq(modelVersions.federationId, federation.id));
      expect(model.weights).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(model.weights!).equals(Buffer.from(weights))).toBe(true);
      const typeRows = (await database.execute(
        `SELECT jsonb_typeof(settings) AS kind FROM federations WHERE id = '${federation.id}'`,
      )) as unknown;
      expect(JSON.stringify(typeRows)).toContain('"kind":"object"');
    });

    it('returns every double stored in jsonb bit for bit (receipt hashes are recomputed from jsonb)', async () => {
      const values = fc.sample(fc.double({ noNaN: true, noDefaultInfinity: true }), { numRuns: 500, seed: 42 });
      values.push(0.1 + 0.2, 1e-5, 5e-324, Number.MAX_VALUE, 1 / 3, Math.exp(-0.5));
      const [federation] = await database.db
        .insert(federations)
        .values({ name: 'doubles', spec: { values } })
        .returning();
      const [stored] = await database.db.select().from(federations).where(eq(federations.id, federation.id));
      expect(stored.spec).toEqual(JSON.parse(JSON.stringify({ values })));
    });
  });
}

describe('openDatabase', () => {
  it('refuses a non-postgres URL and an unreachable server with a coded error that hides the password', async () => {
    await expect(openDatabase({ url: 'mysql://x' })).rejects.toBeInstanceOf(DatabaseOpenError);
    const error = await openDatabase({ url: 'postgres://u:s3cret@127.0.0.1:1/none' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseOpenError);
    expect((error as DatabaseOpenError).code).toBe('E_DATABASE_OPEN');
    expect((error as Error).message).not.toContain('s3cret');
  });
});
