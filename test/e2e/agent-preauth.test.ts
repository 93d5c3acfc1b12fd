/**
 * Pre-authentication limits of the agents' endpoint and of enrolment (issue 16, findings 3 and 6): an
 * unauthenticated socket cannot make the server buffer a large frame (the limit is raised for a connection only
 * after its site proved its key), one IP holds a bounded number of unauthenticated connections and sends a bounded
 * number of messages, and POST /api/enroll is throttled per IP. Real server (Nest + socket.io + PGlite).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_NAMESPACE,
  PROTOCOL_VERSION,
  SIGNING_DOMAINS,
  concordSocketParser,
  ed25519PublicKeyBase64,
  freshNonce,
  signValue,
} from '@concord/protocol';
import { serverConfigSchema } from '../../apps/aggregator/src/config/config.schema.js';
import { FederationRepository } from '../../apps/aggregator/src/repositories/federation.repository.js';
import { openMigratedDatabase, startServer, type RunningServer } from '../../apps/aggregator/src/server.js';
import { EnrollmentService } from '../../apps/aggregator/src/services/enrollment.service.js';
import { TINY_LOCAL_SETTINGS } from '../support/tiny-settings.js';

const settings = TINY_LOCAL_SETTINGS;
const LIMITS = {
  agentPreAuthMaxFrameBytes: 64 * 1024,
  agentPreAuthConnectionsPerIp: 3,
  agentPreAuthMessagesPerMinutePerIp: 12,
  enrollPerMinutePerIp: 4,
  agentAuthTimeoutMs: 60_000, // so only the limits under test close a connection
};
const within = <T>(ms: number, p: Promise<T>) =>
  Promise.race([p, new Promise<string>((resolve) => setTimeout(() => resolve(`nothing within ${ms} ms`), ms))]);

let server: RunningServer;
let keyDir: string;
let federationId: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'concord-preauth-'));
  const database = await openMigratedDatabase({ dataDir: 'memory' });
  server = await startServer({
    config: serverConfigSchema.parse({
      port: 0,
      keyDir,
      dataDir: 'memory',
      logLevel: 'silent',
      noAutorun: true,
      ...LIMITS,
    }),
    database,
  });
  federationId = (await server.app.get(FederationRepository).create({ name: 'preauth', spec: settings })).id;
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
  rmSync(keyDir, { recursive: true, force: true });
});

function open(siteId: string): Socket {
  const socket = io(server.url + AGENT_NAMESPACE, {
    auth: { version: PROTOCOL_VERSION, siteId },
    transports: ['websocket'],
    reconnection: false,
    parser: concordSocketParser,
  });
  sockets.push(socket);
  return socket;
}
const connected = (socket: Socket) =>
  new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
const closed = (socket: Socket) => new Promise<string>((resolve) => socket.once('disconnect', resolve));

async function enrolledSite() {
  const seed = new Uint8Array(randomBytes(32));
  const { token } = await server.app.get(EnrollmentService).issueToken(federationId);
  const site = await server.app.get(EnrollmentService).enroll({
    token,
    ed25519PublicKey: ed25519PublicKeyBase64(seed),
    x25519PublicKey: generateKeyPairSync('x25519')
      .publicKey.export({ format: 'der', type: 'spki' })
      .subarray(12)
      .toString('base64'),
    cap: { epsilon: 10, delta: 1e-5 }, // covers one round of these settings (enrollment refuses a cap that cannot)
  });
  return { siteId: site.siteId, seed };
}

async function authenticate(socket: Socket, siteId: string, seed: Uint8Array) {
  const clientNonce = freshNonce();
  const challenge = (await socket.timeout(5000).emitWithAck('auth:hello', { siteId, clientNonce })) as {
    serverNonce: string;
  };
  const signature = signValue(
    SIGNING_DOMAINS.siteAuth,
    { siteId, clientNonce, serverNonce: challenge.serverNonce },
    seed,
  );
  return (await socket.timeout(5000).emitWithAck('auth:prove', { signature })) as { ok: boolean };
}

describe('agents endpoint before authentication', () => {
  it('closes an unauthenticated connection that sends a 1 MB frame, and accepts one once authenticated', async () => {
    const { siteId, seed } = await enrolledSite();
    const stranger = open(siteId);
    await connected(stranger);
    const gone = closed(stranger);
    const ack = stranger
      .timeout(3000)
      .emitWithAck('auth:hello', { siteId, clientNonce: freshNonce(), pad: 'x'.repeat(1_000_000) })
      .then(
        () => 'answered',
        () => 'no answer',
      );
    expect(await within(3000, gone)).toBe('transport close');
    expect(await ack).toBe('no answer');

    const agent = open(siteId);
    await connected(agent);
    expect(await authenticate(agent, siteId, seed)).toEqual({ ok: true });
    // a large frame is now accepted (answered: a second hello is refused, but read)
    const big = (await agent
      .timeout(5000)
      .emitWithAck('auth:hello', { siteId, clientNonce: freshNonce(), pad: 'x'.repeat(1_000_000) })) as {
      code?: string;
    };
    expect(big.code).toBeDefined();
    expect(agent.connected).toBe(true);
    agent.close();
  });

  it('holds at most agentPreAuthConnectionsPerIp unauthenticated connections per IP', async () => {
    const { siteId } = await enrolledSite();
    const held = [open(siteId), open(siteId), open(siteId)];
    await Promise.all(held.map(connected));
    await expect(connected(open(siteId))).rejects.toThrow();
    held[0].close();
    await new Promise((r) => setTimeout(r, 200));
    const next = open(siteId);
    await connected(next);
    for (const s of [...held, next]) s.close();
    await new Promise((r) => setTimeout(r, 200));
  });

  it('disconnects an IP past its unauthenticated message budget', async () => {
    const { siteId } = await enrolledSite();
    const socket = open(siteId);
    await connected(socket);
    const gone = closed(socket);
    // unknown events cost no lookup, but they count: the budget is per message
    for (let i = 0; i < LIMITS.agentPreAuthMessagesPerMinutePerIp + 2; i++) socket.emit('noise', i);
    expect(await within(3000, gone)).toBe('io server disconnect');
  });
});

describe('POST /api/enroll', () => {
  it('answers 429 E_RATE_LIMITED past enrollPerMinutePerIp attempts', async () => {
    const statuses: number[] = [];
    let last: { code?: string } = {};
    for (let i = 0; i < LIMITS.enrollPerMinutePerIp + 2; i++) {
      const res = await fetch(`${server.url}/api/enroll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: randomBytes(32).toString('base64url') }),
      });
      statuses.push(res.status);
      last = (await res.json()) as { code?: string };
    }
    expect(statuses.slice(0, LIMITS.enrollPerMinutePerIp).every((s) => s === 400)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    expect(last.code).toBe('E_RATE_LIMITED');
  });
});
