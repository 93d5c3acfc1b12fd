/**
 * Keys are compared as keys (issue 16, finding 5, and the hello part of 6): one canonical base64 encoding, point
 * checks at enrolment and at authentication, duplicate X25519 keys and site names refused with codes, one
 * auth:hello per connection, and a report (never a rewrite) of stored rows that fail. Real server, PGlite.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_NAMESPACE, PROTOCOL_VERSION, ed25519PublicKeyBase64, freshNonce } from '@concord/protocol';
import { serverConfigSchema } from '../../apps/aggregator/src/config/config.schema.js';
import { sites } from '../../apps/aggregator/src/db/schema/sites.js';
import { DatabaseRepository } from '../../apps/aggregator/src/repositories/database.repository.js';
import { FederationRepository } from '../../apps/aggregator/src/repositories/federation.repository.js';
import { SiteRepository } from '../../apps/aggregator/src/repositories/site.repository.js';
import { openMigratedDatabase, startServer, type RunningServer } from '../../apps/aggregator/src/server.js';
import { EnrollmentService } from '../../apps/aggregator/src/services/enrollment.service.js';
import { findBadSiteKeys } from '../../apps/aggregator/src/services/site-key-report.js';
import { TINY_LOCAL_SETTINGS } from '../support/tiny-settings.js';

const settings = TINY_LOCAL_SETTINGS;
const IDENTITY = Buffer.from('01' + '00'.repeat(31), 'hex').toString('base64');
const ZEROS = Buffer.alloc(32).toString('base64');

let server: RunningServer;
let keyDir: string;
let federationId: string;
let enrollment: EnrollmentService;
const sockets: Socket[] = [];

const ed25519 = () => ed25519PublicKeyBase64(new Uint8Array(randomBytes(32)));
const x25519 = () =>
  generateKeyPairSync('x25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');

async function enroll(body: Record<string, unknown>) {
  const { token } = await enrollment.issueToken(federationId);
  const res = await fetch(`${server.url}/api/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      token,
      ed25519PublicKey: ed25519(),
      x25519PublicKey: x25519(),
      cap: { epsilon: 10, delta: 1e-5 }, // covers one round of these settings (a cap that cannot is refused)
      ...body,
    }),
  });
  return { status: res.status, body: (await res.json()) as { code?: string; siteId?: string; message?: string } };
}

beforeAll(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'concord-keys-'));
  process.env.CONCORD_NO_AUTORUN = '1';
  const database = await openMigratedDatabase({ dataDir: 'memory' });
  server = await startServer({
    config: serverConfigSchema.parse({
      port: 0,
      keyDir,
      dataDir: 'memory',
      logLevel: 'silent',
      enrollPerMinutePerIp: 1000,
    }),
    database,
  });
  federationId = (await server.app.get(FederationRepository).create({ name: 'keys', spec: settings })).id;
  enrollment = server.app.get(EnrollmentService);
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
  rmSync(keyDir, { recursive: true, force: true });
  delete process.env.CONCORD_NO_AUTORUN;
});

describe('enrolment compares keys as bytes', () => {
  it('refuses every other encoding of an enrolled identity key with E_KEY_ENCODING', async () => {
    const key = ed25519();
    expect((await enroll({ ed25519PublicKey: key })).status).toBe(201);
    for (const variant of [key.replace(/=+$/, ''), `${key}\n`, ` ${key}`, `${key.slice(0, 5)}!${key.slice(5)}`]) {
      const again = await enroll({ ed25519PublicKey: variant });
      expect([again.status, again.body.code], JSON.stringify(variant)).toEqual([400, 'E_KEY_ENCODING']);
    }
    expect((await enroll({ ed25519PublicKey: key })).body.code).toBe('E_DUPLICATE_KEY');
  });

  it('refuses small-order identity keys and low-order key-agreement keys with codes', async () => {
    for (const bad of [IDENTITY, ZEROS]) {
      const r = await enroll({ ed25519PublicKey: bad });
      expect([r.status, r.body.code]).toEqual([400, 'E_KEY_SMALL_ORDER']);
    }
    const low = await enroll({ x25519PublicKey: ZEROS });
    expect([low.status, low.body.code]).toEqual([400, 'E_KEY_LOW_ORDER']);
  });

  it('refuses a duplicate X25519 key and a duplicate site name with 409 and a code', async () => {
    const agreement = x25519();
    expect((await enroll({ x25519PublicKey: agreement, name: 'north' })).status).toBe(201);
    const sameKey = await enroll({ x25519PublicKey: agreement });
    expect([sameKey.status, sameKey.body.code]).toEqual([409, 'E_DUPLICATE_KEY']);
    const sameName = await enroll({ name: 'north' });
    expect([sameName.status, sameName.body.code]).toEqual([409, 'E_DUPLICATE_NAME']);
  });
});

describe('authentication reads keys the same way', () => {
  function connect(siteId: string): Promise<Socket> {
    const socket = io(server.url + AGENT_NAMESPACE, {
      auth: { version: PROTOCOL_VERSION, siteId },
      transports: ['websocket'],
      reconnection: false,
    });
    sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', reject);
    });
  }
  const hello = (socket: Socket, siteId: string) =>
    socket.timeout(5000).emitWithAck('auth:hello', { siteId, clientNonce: freshNonce() }) as Promise<{
      ok?: boolean;
      code?: string;
      serverNonce?: string;
    }>;

  it('a stored identity-point key (enrolled before the checks) cannot authenticate, and is reported', async () => {
    const { body } = await enroll({});
    const siteId = body.siteId!;
    // an old row: written directly, as the aggregator used to accept it
    const db = server.app.get(DatabaseRepository).db;
    await db.update(sites).set({ identityPublicKey: IDENTITY }).where(eq(sites.id, siteId));
    const socket = await connect(siteId);
    const answer = await hello(socket, siteId);
    expect(answer).toMatchObject({ ok: false, code: 'E_KEY_SMALL_ORDER' });
    const findings = findBadSiteKeys(await server.app.get(SiteRepository).allSiteKeys());
    expect(findings).toContainEqual({ siteId, federationId, field: 'identityPublicKey', code: 'E_KEY_SMALL_ORDER' });
    const [row] = await db.select().from(sites).where(eq(sites.id, siteId));
    expect(row.identityPublicKey).toBe(IDENTITY); // reported, not rewritten
  });

  it('answers one auth:hello per connection, even when several are sent at once', async () => {
    const { body } = await enroll({});
    const siteId = body.siteId!;
    const socket = await connect(siteId);
    const answers = await Promise.all(Array.from({ length: 5 }, () => hello(socket, siteId)));
    expect(answers.filter((a) => a.serverNonce)).toHaveLength(1);
    expect(answers.filter((a) => a.code === 'E_REPLAY')).toHaveLength(4);
  });
});
