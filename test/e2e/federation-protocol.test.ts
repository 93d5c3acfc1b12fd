/**
 * The aggregator's agent endpoint refuses what it must, with coded errors: a bad, used or expired enrollment token,
 * a wrong protocol version, a forged or replayed challenge signature, an impostor aggregator (pinned key), and an
 * oversize or forged plan on the agent side. Real server (Nest + socket.io + PGlite), no training.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import {
  AGENT_NAMESPACE,
  PROTOCOL_VERSION,
  SIGNING_DOMAINS,
  bytesToFloat32,
  ed25519PublicKeyBase64,
  freshNonce,
  signValue,
} from '@concord/protocol';
import { MemoryBudgetGuard, runAgent } from '@concord/client-agent';
import { serverConfigSchema } from '../../apps/aggregator/src/config/config.schema.js';
import { FederationRepository } from '../../apps/aggregator/src/repositories/federation.repository.js';
import { SiteRepository } from '../../apps/aggregator/src/repositories/site.repository.js';
import { EnrollmentService, hashToken } from '../../apps/aggregator/src/services/enrollment.service.js';
import { openMigratedDatabase, startServer, type RunningServer } from '../../apps/aggregator/src/server.js';
import { verifyPlanMessage } from '../../apps/client-agent/src/runtime/plan-check.js';
import { TINY_LOCAL_SETTINGS } from '../support/tiny-settings.js';

const settings = TINY_LOCAL_SETTINGS;

let server: RunningServer;
let keyDir: string;
let federationId: string;
let enrollment: EnrollmentService;
const sockets: Socket[] = [];

beforeAll(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'concord-proto-'));
  process.env.CONCORD_NO_AUTORUN = '1';
  const database = await openMigratedDatabase({ dataDir: 'memory' });
  server = await startServer({
    config: serverConfigSchema.parse({ port: 0, keyDir, dataDir: 'memory', logLevel: 'silent' }),
    database,
  });
  federationId = (await server.app.get(FederationRepository).create({ name: 'proto', spec: settings })).id;
  enrollment = server.app.get(EnrollmentService);
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
  rmSync(keyDir, { recursive: true, force: true });
  delete process.env.CONCORD_NO_AUTORUN;
});

function keys() {
  const seed = new Uint8Array(randomBytes(32));
  return { seed, publicKey: ed25519PublicKeyBase64(seed) };
}

async function enroll(token: string, publicKey: string) {
  const res = await fetch(`${server.url}/api/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      token,
      ed25519PublicKey: publicKey,
      x25519PublicKey: generateKeyPairSync('x25519')
        .publicKey.export({ format: 'der', type: 'spki' })
        .subarray(12)
        .toString('base64'),
      cap: { epsilon: 10, delta: 1e-5 }, // covers one round of these settings (a cap that cannot is refused)
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function connect(auth: Record<string, unknown>): Promise<Socket> {
  const socket = io(server.url + AGENT_NAMESPACE, { auth, transports: ['websocket'], reconnection: false });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

describe('enrollment', () => {
  it('enrolls with a one-time token, stores only its hash, and refuses reuse, unknown and expired tokens', async () => {
    const { token } = await enrollment.issueToken(federationId);
    const site = keys();
    const first = await enroll(token, site.publicKey);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ federationId, serverPublicKey: expect.any(String) });
    // the privacy terms the site pins beside the key (its agent refuses plans whose terms differ)
    expect(first.body.terms).toEqual({ mode: 'local', accountant: 'rdp', delta: 1e-5, clipNorm: 1 });
    const again = await enroll(token, keys().publicKey);
    expect([again.status, again.body.code]).toEqual([401, 'E_TOKEN_USED']);
    const unknown = await enroll(randomBytes(32).toString('base64url'), keys().publicKey);
    expect([unknown.status, unknown.body.code]).toEqual([401, 'E_BAD_TOKEN']);
    const { token: short } = await enrollment.issueToken(federationId, -1000);
    const expired = await enroll(short, keys().publicKey);
    expect([expired.status, expired.body.code]).toEqual([401, 'E_TOKEN_EXPIRED']);
    const bad = await enroll('x', 'not base64');
    expect([bad.status, bad.body.code]).toEqual([400, 'E_BAD_MESSAGE']);
    const dump = JSON.stringify(await server.app.get(SiteRepository).sitesOf(federationId));
    expect(dump).not.toContain(token);
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('agent authentication', () => {
  let siteId: string;
  let site: ReturnType<typeof keys>;
  let serverPublicKey: string;

  beforeAll(async () => {
    site = keys();
    const { token } = await enrollment.issueToken(federationId);
    const { body } = await enroll(token, site.publicKey);
    siteId = body.siteId as string;
    serverPublicKey = body.serverPublicKey as string;
  });

  it('refuses a connection with another protocol version (E_VERSION)', async () => {
    const error = await connect({ version: 'concord/0', siteId }).catch((e: Error & { data?: { code?: string } }) => e);
    expect((error as { data?: { code?: string } }).data?.code).toBe('E_VERSION');
  });

  it('accepts the enrolled key, and refuses a forged signature and a replayed proof', async () => {
    const socket = await connect({ version: PROTOCOL_VERSION, siteId });
    const clientNonce = freshNonce();
    const challenge = await socket.emitWithAck('auth:hello', { siteId, clientNonce });
    const transcript = { siteId, clientNonce, serverNonce: challenge.serverNonce };
    const ok = await socket.emitWithAck('auth:prove', {
      signature: signValue(SIGNING_DOMAINS.siteAuth, transcript, site.seed),
    });
    expect(ok).toEqual({ ok: true });
    const replay = await socket.emitWithAck('auth:prove', {
      signature: signValue(SIGNING_DOMAINS.siteAuth, transcript, site.seed),
    });
    expect(replay.code).toBe('E_REPLAY');

    // The same proof on a new connection does not verify: the server's nonce is fresh.
    const other = await connect({ version: PROTOCOL_VERSION, siteId });
    await other.emitWithAck('auth:hello', { siteId, clientNonce });
    const replayed = await other.emitWithAck('auth:prove', {
      signature: signValue(SIGNING_DOMAINS.siteAuth, transcript, site.seed),
    });
    expect(replayed.code).toBe('E_BAD_SIGNATURE');

    const forger = await connect({ version: PROTOCOL_VERSION, siteId });
    const c2 = await forger.emitWithAck('auth:hello', { siteId, clientNonce: freshNonce() });
    const forged = await forger.emitWithAck('auth:prove', {
      signature: signValue(
        SIGNING_DOMAINS.siteAuth,
        { siteId, clientNonce: 'x', serverNonce: c2.serverNonce },
        keys().seed,
      ),
    });
    expect(forged.code).toBe('E_BAD_SIGNATURE');
    expect(typeof serverPublicKey).toBe('string');
  });

  it('an agent that pinned another aggregator key refuses to talk (E_BAD_SIGNATURE)', async () => {
    const impostorPin = keys().publicKey;
    const run = runAgent(
      {
        identity: {
          siteId,
          federationId,
          identitySeed: site.seed,
          serverPublicKey: impostorPin,
          terms: { mode: 'local', accountant: 'rdp', delta: 1e-5, clipNorm: 1 },
        },
        data: { features: new Float32Array(4), labels: new Float32Array(1), count: 1, featureCount: 4 },
        budget: new MemoryBudgetGuard({ epsilon: 3, delta: 1e-5 }),
      },
      { server: server.url.replace('http', 'ws') },
    );
    await expect(run).rejects.toMatchObject({ code: 'E_BAD_SIGNATURE' });
  });
});

describe('agent plan checks', () => {
  const identity = { siteId: 's1', federationId: 'f1', identitySeed: new Uint8Array(32), serverPublicKey: '' };
  const aggregator = keys();
  identity.serverPublicKey = aggregator.publicKey;
  const weights = new Uint8Array(new Float32Array(15).buffer);
  const plan = {
    version: PROTOCOL_VERSION,
    federationId: 'f1',
    roundId: 'r1',
    roundNumber: 1,
    issuedAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
    model: {
      spec: settings.model,
      parameterCount: 15,
      sha256: createHash('sha256').update(weights).digest('hex'),
    },
    privacy: settings.privacy,
    optimization: settings.optimization,
    encoding: settings.encoding,
    secagg: { threshold: 2, neighbours: 1, vectorLength: 15, modulusBits: 19 }, // 2 x 2^16 = 2^17: 18 bits + sign
    roster: [
      { siteId: 's1', identityPublicKey: keys().publicKey, lastReceipt: null },
      { siteId: 's2', identityPublicKey: keys().publicKey, lastReceipt: null },
    ],
  };

  it('accepts a plan signed with the pinned key', () => {
    const signature = signValue(SIGNING_DOMAINS.plan, plan, aggregator.seed);
    expect(verifyPlanMessage({ plan, signature, weights }, identity, new Set(), new Date()).weights.length).toBe(15);
  });
  it('refuses a forged plan, a replayed round, an expired plan and swapped weights, with codes', () => {
    const forged = signValue(SIGNING_DOMAINS.plan, plan, keys().seed);
    expect(() => verifyPlanMessage({ plan, signature: forged, weights }, identity, new Set(), new Date())).toThrow(
      expect.objectContaining({ code: 'E_BAD_SIGNATURE' }),
    );
    const signature = signValue(SIGNING_DOMAINS.plan, plan, aggregator.seed);
    expect(() => verifyPlanMessage({ plan, signature, weights }, identity, new Set(['r1']), new Date())).toThrow(
      expect.objectContaining({ code: 'E_REPLAY' }),
    );
    expect(() =>
      verifyPlanMessage({ plan, signature, weights }, identity, new Set(), new Date(Date.now() + 120_000)),
    ).toThrow(expect.objectContaining({ code: 'E_PLAN_EXPIRED' }));
    const swapped = new Uint8Array(60).fill(1);
    expect(() => verifyPlanMessage({ plan, signature, weights: swapped }, identity, new Set(), new Date())).toThrow(
      expect.objectContaining({ code: 'E_BAD_MESSAGE' }),
    );
  });
  it('refuses a distributed plan whose rounding it does not run (E_UNSUPPORTED_PLAN)', () => {
    const distributed = {
      ...plan,
      privacy: {
        mode: 'distributed' as const,
        sampleRate: 0.05,
        noiseMultiplier: 1,
        steps: 1 as const,
        clipNorm: 1,
        delta: 1e-5,
        distributed: {
          scaleBits: 14,
          roundingBeta: 0.5,
          dimension: 16,
          modulusBits: 32,
          localNoiseVariance: 1e6,
          minNoisyClients: 2,
          cohortSize: 2,
          countWeight: 0.25,
        },
      },
    };
    const signature = signValue(SIGNING_DOMAINS.plan, distributed, aggregator.seed);
    expect(() => verifyPlanMessage({ plan: distributed, signature, weights }, identity, new Set(), new Date())).toThrow(
      expect.objectContaining({ code: 'E_UNSUPPORTED_PLAN' }),
    );
  });
  it('refuses an oversize tensor before allocating from it (E_TOO_LARGE)', () => {
    expect(() => bytesToFloat32(new Uint8Array(64), 15)).toThrow(expect.objectContaining({ code: 'E_TOO_LARGE' }));
    expect(() => bytesToFloat32(new Uint8Array(8), 15)).toThrow(expect.objectContaining({ code: 'E_BAD_MESSAGE' }));
  });
});
