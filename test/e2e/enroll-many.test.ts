/**
 * EnrollmentService.enrollMany (issue 20: `concord simulate` enrolls its virtual agents in batches, in-process):
 * one transaction for a batch, and per request exactly the checks and answers of POST /api/enroll (enroll is
 * enrollMany of one), including conflicts between requests of the same batch. Real repositories on PGlite.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519PublicKeyBase64 } from '@concord/protocol';
import { enrollmentTokens } from '../../apps/aggregator/src/db/schema/enrollment-tokens.js';
import { EnrollmentTokenRepository } from '../../apps/aggregator/src/repositories/enrollment-token.repository.js';
import { FederationRepository } from '../../apps/aggregator/src/repositories/federation.repository.js';
import { KeyRepository } from '../../apps/aggregator/src/repositories/key.repository.js';
import { SiteRepository } from '../../apps/aggregator/src/repositories/site.repository.js';
import {
  EnrollmentError,
  EnrollmentService,
  MAX_ENROLL_BATCH,
} from '../../apps/aggregator/src/services/enrollment.service.js';
import { openTestPglite, type TestDatabase } from '../support/databases.js';
import { TINY_LOCAL_SETTINGS } from '../support/tiny-settings.js';

const settings = TINY_LOCAL_SETTINGS;
const SMALL_ORDER = Buffer.from('01' + '00'.repeat(31), 'hex').toString('base64');

let database: TestDatabase;
let keyDir: string;
let federationId: string;
let enrollment: EnrollmentService;
let siteRepository: SiteRepository;
let now = new Date('2026-01-01T00:00:00Z');

const ed25519 = () => ed25519PublicKeyBase64(new Uint8Array(randomBytes(32)));
const x25519 = () =>
  generateKeyPairSync('x25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
const request = (token: string, extra: Record<string, unknown> = {}) => ({
  token,
  ed25519PublicKey: ed25519(),
  x25519PublicKey: x25519(),
  cap: { epsilon: 10, delta: 1e-5 },
  ...extra,
});
const codeOf = (r: unknown) => (r instanceof EnrollmentError ? `${r.status} ${r.code}` : 'enrolled');

beforeAll(async () => {
  database = await openTestPglite();
  keyDir = mkdtempSync(join(tmpdir(), 'concord-keys-'));
  const federations = new FederationRepository(database.db);
  siteRepository = new SiteRepository(database.db);
  enrollment = new EnrollmentService(
    { db: database.db, federations, sites: siteRepository, tokens: new EnrollmentTokenRepository(database.db) },
    new KeyRepository(keyDir),
    () => now,
  );
  federationId = (await federations.create({ name: 'many', spec: settings })).id;
});

afterAll(async () => {
  await database?.dispose();
  rmSync(keyDir, { recursive: true, force: true });
});

describe('EnrollmentService.enrollMany', () => {
  it('answers each request of a batch as POST /api/enroll would, in order, conflicts within the batch included', async () => {
    const tokens = await enrollment.issueTokens(federationId, 9);
    const expiring = (await enrollment.issueToken(federationId, 1000)).token;
    const enrolled = request(tokens[8], { name: 'already' });
    await enrollment.enroll(enrolled);
    const key = ed25519();
    const agreement = x25519();
    now = new Date(now.getTime() + 2000); // `expiring` is past its time now
    const batch = [
      request(tokens[0], { name: 'a' }),
      request(tokens[0], { name: 'b' }), // the token the request before spent
      request(tokens[1], { ed25519PublicKey: key }),
      request(tokens[2], { ed25519PublicKey: key }), // the identity key of an earlier request
      request(tokens[3], { x25519PublicKey: agreement }),
      request(tokens[4], { x25519PublicKey: agreement }), // the key-agreement key of an earlier request
      request(tokens[5], { name: 'a' }), // the name of an earlier request
      request(tokens[6], { name: 'already' }), // the name of an enrolled site
      request(tokens[7], { ed25519PublicKey: SMALL_ORDER }),
      request('x'.repeat(43)), // unknown token
      request(expiring),
      { token: tokens[7] }, // not an enrollment request
      request(tokens[7], { cap: { epsilon: 1e-6, delta: 1e-5 } }), // cannot cover one round
      request(tokens[7], { x25519PublicKey: enrolled.x25519PublicKey }), // an enrolled site's key
      request(tokens[7]),
    ];
    const results = await enrollment.enrollMany(batch);
    expect(results.map(codeOf)).toEqual([
      'enrolled',
      '401 E_TOKEN_USED',
      'enrolled',
      '409 E_DUPLICATE_KEY',
      'enrolled',
      '409 E_DUPLICATE_KEY',
      '409 E_DUPLICATE_NAME',
      '409 E_DUPLICATE_NAME',
      '400 E_KEY_SMALL_ORDER',
      '401 E_BAD_TOKEN',
      '401 E_TOKEN_EXPIRED',
      '400 E_BAD_MESSAGE',
      '422 E_CAP_TOO_LOW',
      '409 E_DUPLICATE_KEY',
      'enrolled',
    ]);
    // each enrolled site holds its request's keys, and its token is spent by it; refused ones left theirs unspent
    for (const [i, r] of results.entries()) {
      if (r instanceof EnrollmentError) continue;
      const site = await siteRepository.getSite(r.siteId);
      expect([site?.identityPublicKey, site?.keyAgreementPublicKey]).toEqual([
        batch[i].ed25519PublicKey,
        batch[i].x25519PublicKey,
      ]);
      expect(r.terms?.mode).toBe('local');
    }
    const rows = await database.db
      .select()
      .from(enrollmentTokens)
      .where(eq(enrollmentTokens.federationId, federationId));
    const spentBy = new Map(rows.map((t) => [t.id, t.usedBySiteId]));
    expect([...spentBy.values()].filter(Boolean)).toHaveLength(5); // 4 of the batch and the site enrolled before
    const refusedToken = (await enrollment.enrollMany([request(tokens[2])]))[0];
    expect(codeOf(refusedToken)).toBe('enrolled'); // the token of a refused request is still good
  });

  it('refuses a batch larger than MAX_ENROLL_BATCH before touching the database', async () => {
    await expect(enrollment.enrollMany(Array.from({ length: MAX_ENROLL_BATCH + 1 }, () => ({})))).rejects.toThrow(
      RangeError,
    );
  });
});
