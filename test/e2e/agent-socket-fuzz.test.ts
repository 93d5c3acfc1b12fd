/**
 * Socket payload fuzz of the agents' endpoint (issue 16), the socket.io counterpart of api-fuzz.test.ts: every event
 * the agent gateway handles (auth:hello, auth:prove) and events it does not, before and after authentication, with
 * NUL bytes, huge strings, deeply nested objects, unusual unicode, wrong types, arrays where objects are expected and
 * missing acks; the handshake's auth object likewise; and raw socket.io frames no client library would send. The
 * server must stay up (/health answers), never throw an unhandled error, answer only coded errors where it answers,
 * and still let a good agent authenticate afterwards. Real server (Nest + socket.io + PGlite).
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  AGENT_NAMESPACE,
  AuthChallengeSchema,
  ErrorReplySchema,
  PROTOCOL_VERSION,
  SIGNING_DOMAINS,
  concordSocketParser,
  ed25519PublicKeyBase64,
  freshNonce,
  signValue,
} from '@concord/protocol';
import { serverConfigSchema } from '../../apps/aggregator/src/config/config.schema.js';
import { AgentConnectionsRepository } from '../../apps/aggregator/src/repositories/agent-connections.repository.js';
import { FederationRepository } from '../../apps/aggregator/src/repositories/federation.repository.js';
import { startServer, type RunningServer } from '../../apps/aggregator/src/server.js';
import { EnrollmentService } from '../../apps/aggregator/src/services/enrollment.service.js';
import { openTestPglite, type TestDatabase } from '../support/databases.js';
import { TINY_LOCAL_SETTINGS } from '../support/tiny-settings.js';

const settings = TINY_LOCAL_SETTINGS;
const PRE_AUTH_FRAME = 64 * 1024;

function deep(levels: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}
function deepArray(levels: number): unknown {
  let value: unknown = [];
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

const NUL = 'a\u0000b';
const UNICODE = ['\u202eevil\u202c', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ 中文', '\ufeff\u200b', 'e\u0301', '\ud800', '\udfff\ud800', '\uffff'];

/** Payloads that fit a pre-authentication frame and hold no NUL: the server must answer each with a coded refusal. */
function answerable(siteId: string): unknown[] {
  return [
    undefined,
    null,
    0,
    -1,
    1e308,
    true,
    '',
    'x'.repeat(40_000),
    [],
    [{ siteId, clientNonce: freshNonce() }], // an array where an object is expected
    {},
    { siteId },
    { siteId, clientNonce: 1 },
    { siteId, clientNonce: 'x'.repeat(40_000) },
    { siteId, clientNonce: freshNonce(), extra: 1 },
    { siteId: randomUUID(), clientNonce: freshNonce() },
    { siteId: { $ne: '' }, clientNonce: freshNonce() },
    { siteId: [siteId], clientNonce: [freshNonce()] },
    { signature: 1 },
    { signature: [] },
    { signature: 'x'.repeat(40_000) },
    { signature: { toString: 'x' } },
    { __proto__: { siteId }, constructor: { prototype: 1 } },
    JSON.parse('{"__proto__": {"polluted": 1}, "siteId": 1}'),
    deep(500), // deeper ones go as raw frames: the client's own encoder recurses
    deepArray(500),
    deep(5, { signature: UNICODE[1] }),
    ...UNICODE.map((u) => ({ siteId: u, clientNonce: u, signature: u })),
    ...UNICODE,
    { [UNICODE[0]]: UNICODE[1] },
    new Uint8Array(1000), // binary attachment where JSON is expected
    { signature: new Uint8Array(64) },
  ];
}

type Outcome = { kind: 'answered'; reply: unknown } | { kind: 'closed' } | { kind: 'no answer' };

let server: RunningServer;
let database: TestDatabase;
let keyDir: string;
let federationId: string;
const sockets: Socket[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (error: unknown) => unhandled.push(error);

beforeAll(async () => {
  process.on('uncaughtException', onUnhandled);
  process.on('unhandledRejection', onUnhandled);
  keyDir = mkdtempSync(join(tmpdir(), 'concord-socket-fuzz-'));
  database = await openTestPglite(); // from the migrated template: seconds faster than migrating afresh
  server = await startServer({
    config: serverConfigSchema.parse({
      port: 0,
      keyDir,
      dataDir: 'memory',
      logLevel: 'silent',
      noAutorun: true,
      agentPreAuthMaxFrameBytes: PRE_AUTH_FRAME,
      // the limits have their own tests (agent-preauth): here they must not be what closes a connection
      agentPreAuthConnectionsPerIp: 10_000,
      agentPreAuthMessagesPerMinutePerIp: 10_000_000,
      agentAuthTimeoutMs: 30_000,
    }),
    database,
  });
  federationId = (await server.app.get(FederationRepository).create({ name: 'socket-fuzz', spec: settings })).id;
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
  await database?.dispose();
  rmSync(keyDir, { recursive: true, force: true });
  process.off('uncaughtException', onUnhandled);
  process.off('unhandledRejection', onUnhandled);
});

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
    cap: { epsilon: 10, delta: 1e-5 },
  });
  return { siteId: site.siteId, seed };
}

function open(auth: unknown): Socket {
  const socket = io(server.url + AGENT_NAMESPACE, {
    auth: auth as Record<string, unknown>,
    transports: ['websocket'],
    reconnection: false,
    parser: concordSocketParser,
  });
  sockets.push(socket);
  return socket;
}
async function connected(auth: unknown): Promise<Socket> {
  const socket = open(auth);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

async function authenticate(socket: Socket, siteId: string, seed: Uint8Array): Promise<unknown> {
  const clientNonce = freshNonce();
  const challenge = (await socket.timeout(5000).emitWithAck('auth:hello', { siteId, clientNonce })) as {
    serverNonce: string;
  };
  const signature = signValue(
    SIGNING_DOMAINS.siteAuth,
    { siteId, clientNonce, serverNonce: challenge.serverNonce },
    seed,
  );
  return socket.timeout(5000).emitWithAck('auth:prove', { signature });
}

/** Sends one event (with an ack unless `ack` is false) and says what became of it. */
function probe(socket: Socket, event: string, payload: unknown, ack = true, waitMs = 5000): Promise<Outcome> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done({ kind: 'no answer' }), waitMs);
    const onClose = () => done({ kind: 'closed' });
    const done = (outcome: Outcome) => {
      clearTimeout(timer);
      socket.off('disconnect', onClose);
      resolve(outcome);
    };
    if (socket.disconnected) return done({ kind: 'closed' });
    socket.once('disconnect', onClose);
    if (ack) socket.emit(event, payload, (reply: unknown) => done({ kind: 'answered', reply }));
    else socket.emit(event, payload);
  });
}

const isCoded = (reply: unknown) => ErrorReplySchema.safeParse(reply).success;
const describeValue = (v: unknown) => {
  try {
    return (JSON.stringify(v) ?? String(v)).slice(0, 80);
  } catch {
    return String(v).slice(0, 80);
  }
};

async function healthy(): Promise<number> {
  return (await fetch(`${server.url}/health`)).status;
}

describe('agents endpoint under hostile socket.io payloads', () => {
  it('the handshake: bad auth objects are refused with a coded connect_error (or the frame is dropped)', async () => {
    const { siteId } = await enrolledSite();
    const auths: unknown[] = [
      undefined,
      {},
      { version: PROTOCOL_VERSION },
      { version: 1, siteId },
      { version: `${PROTOCOL_VERSION} `, siteId },
      { version: PROTOCOL_VERSION, siteId: NUL },
      { version: PROTOCOL_VERSION, siteId: `${siteId}\u0000` },
      { version: PROTOCOL_VERSION, siteId: 'x'.repeat(40_000) },
      { version: PROTOCOL_VERSION, siteId: [siteId] },
      { version: PROTOCOL_VERSION, siteId: { $ne: '' } },
      { version: PROTOCOL_VERSION, siteId, extra: deep(500) },
      { version: [PROTOCOL_VERSION], siteId },
      { version: PROTOCOL_VERSION, siteId: UNICODE[0] },
      { version: PROTOCOL_VERSION, siteId: UNICODE[4] },
      { version: PROTOCOL_VERSION, siteId: randomUUID().toUpperCase().replace('-', '\u2010') },
      { version: PROTOCOL_VERSION, siteId, pad: 'x'.repeat(200_000) }, // over the pre-auth frame limit
    ];
    const failures: string[] = [];
    await Promise.all(
      auths.map(async (auth) => {
        const socket = open(auth);
        const outcome = await new Promise<string>((resolve) => {
          const timer = setTimeout(() => resolve('nothing within 3 s'), 3000);
          socket.once('connect', () => (clearTimeout(timer), resolve('connected')));
          // engine.io closes a connection whose frame is over the limit: the client is told nothing else
          socket.io.once('close', () => (clearTimeout(timer), resolve('dropped')));
          socket.once('connect_error', (error: Error & { data?: { code?: string } }) => {
            clearTimeout(timer);
            if (typeof error.data?.code === 'string' && /^E_[A-Z0-9_]+$/.test(error.data.code)) resolve('coded');
            else if (/websocket error|xhr poll error|timeout/i.test(error.message)) resolve('dropped');
            else resolve(`uncoded connect_error: ${error.message}`);
          });
        });
        socket.close();
        if (outcome !== 'coded' && outcome !== 'dropped') failures.push(`${describeValue(auth)} -> ${outcome}`);
      }),
    );
    expect(failures, failures.join('\n')).toEqual([]);
    expect(await healthy()).toBe(200);
  });

  it('before authentication: every event, every bad payload, with and without an ack', async () => {
    const { siteId, seed } = await enrolledSite();
    const failures: string[] = [];
    const events = ['auth:hello', 'auth:prove'];
    // one connection takes every answerable probe in turn (a malformed hello does not use up the one hello)
    let socket = await connected({ version: PROTOCOL_VERSION, siteId });
    for (const event of events) {
      for (const payload of answerable(siteId)) {
        const outcome = await probe(socket, event, payload);
        if (outcome.kind === 'answered' && !isCoded(outcome.reply)) {
          failures.push(`${event} ${describeValue(payload)} -> uncoded ${describeValue(outcome.reply)}`);
        } else if (outcome.kind === 'no answer') {
          failures.push(`${event} ${describeValue(payload)} -> no answer and still open`);
        }
        // auth:prove refuses and closes; carry on with a fresh connection
        if (socket.disconnected) socket = await connected({ version: PROTOCOL_VERSION, siteId });
      }
    }
    socket.close();
    // what closes a connection: NUL anywhere, a missing ack, a frame over the pre-auth limit
    const closing: Array<[string, unknown, boolean]> = [];
    for (const event of events) {
      closing.push([event, { siteId, clientNonce: freshNonce() }, false]);
      closing.push([event, { siteId: NUL, clientNonce: freshNonce() }, true]);
      closing.push([event, { [NUL]: 1 }, true]);
      closing.push([event, deep(100, NUL), true]);
      closing.push([event, [[[NUL]]], true]);
      closing.push([event, 'x'.repeat(PRE_AUTH_FRAME + 1), true]);
    }
    closing.push(['round:update', NUL, true]);
    await Promise.all(
      closing.map(async ([event, payload, ack]) => {
        const s = await connected({ version: PROTOCOL_VERSION, siteId });
        const outcome = await probe(s, event, payload, ack, 3000);
        s.close();
        if (outcome.kind !== 'closed') {
          failures.push(`${event} ${describeValue(payload)} ack=${ack} -> ${outcome.kind}, expected a close`);
        }
      }),
    );
    // events nobody handles: never answered, never fatal
    const stray = await connected({ version: PROTOCOL_VERSION, siteId });
    const strayEvents = ['round:plan', 'federation:done', 'x', '', 'constructor', 'toString', '__proto__', 'error'];
    for (const event of strayEvents) {
      const outcome = await probe(stray, event, { siteId }, true, 300);
      if (outcome.kind === 'answered') failures.push(`${event} -> answered ${describeValue(outcome.reply)}`);
    }
    stray.close();
    expect(failures, failures.slice(0, 30).join('\n')).toEqual([]);
    expect(unhandled).toEqual([]);
    expect(await healthy()).toBe(200);
    // the site can still authenticate
    const agent = await connected({ version: PROTOCOL_VERSION, siteId });
    expect(await authenticate(agent, siteId, seed)).toEqual({ ok: true });
    agent.close();
  });

  it('after authentication: the same payloads, plus large frames, are refused with codes', async () => {
    const { siteId, seed } = await enrolledSite();
    const failures: string[] = [];
    let agent = await connected({ version: PROTOCOL_VERSION, siteId });
    expect(await authenticate(agent, siteId, seed)).toEqual({ ok: true });
    // auth:hello again on an authenticated connection: refused, never a second challenge; large frames now read
    for (const payload of [...answerable(siteId), { siteId, clientNonce: freshNonce() }, 'x'.repeat(2_000_000)]) {
      const outcome = await probe(agent, 'auth:hello', payload);
      if (outcome.kind !== 'answered' || !isCoded(outcome.reply)) {
        failures.push(`auth:hello ${describeValue(payload)} -> ${outcome.kind} ${describeValue(outcome)}`);
      }
    }
    expect(server.app.get(AgentConnectionsRepository).socketOf(siteId)).toBeDefined();
    // auth:prove again: a coded refusal (and the connection is closed); a new one authenticates
    for (const payload of [{ signature: 'x' }, deep(500), { signature: 'x'.repeat(2_000_000) }, null]) {
      const outcome = await probe(agent, 'auth:prove', payload);
      if (outcome.kind !== 'answered' || !isCoded(outcome.reply)) {
        failures.push(`auth:prove ${describeValue(payload)} -> ${outcome.kind} ${describeValue(outcome)}`);
      }
      agent.close();
      agent = await connected({ version: PROTOCOL_VERSION, siteId });
      expect(await authenticate(agent, siteId, seed)).toEqual({ ok: true });
    }
    for (const event of ['round:plan', 'x', 'error', 'constructor']) {
      const outcome = await probe(agent, event, deep(500), true, 300);
      if (outcome.kind === 'answered') failures.push(`${event} -> answered ${describeValue(outcome.reply)}`);
    }
    // NUL after authentication closes the connection too
    expect((await probe(agent, 'auth:hello', { siteId: NUL }, true, 3000)).kind).toBe('closed');
    expect(failures, failures.slice(0, 30).join('\n')).toEqual([]);
    expect(unhandled).toEqual([]);
    expect(await healthy()).toBe(200);
  });

  it('a connection that closes while its proof is checked is not registered as a connected agent', async () => {
    const connections = server.app.get(AgentConnectionsRepository);
    for (const how of ['second proof', 'client disconnects'] as const) {
      const { siteId, seed } = await enrolledSite();
      const socket = await connected({ version: PROTOCOL_VERSION, siteId });
      const clientNonce = freshNonce();
      const challenge = (await socket.timeout(5000).emitWithAck('auth:hello', { siteId, clientNonce })) as {
        serverNonce: string;
      };
      expect(AuthChallengeSchema.safeParse(challenge).success).toBe(true);
      const signature = signValue(
        SIGNING_DOMAINS.siteAuth,
        { siteId, clientNonce, serverNonce: challenge.serverNonce },
        seed,
      );
      // PGlite runs one query at a time: a transaction held open keeps the server's federation lookup (after the
      // signature check) waiting, so the connection is gone by the time the lookup answers
      const held = database.db.transaction(async (tx) => {
        await tx.execute(sql`select 1`);
        await new Promise((resolve) => setTimeout(resolve, 400));
      });
      socket.emit('auth:prove', { signature }, () => {}); // its ack is never awaited
      if (how === 'second proof')
        socket.emit('auth:prove', { signature }, () => {}); // E_REPLAY, and closed
      else {
        await new Promise((resolve) => setTimeout(resolve, 100)); // the server has the proof, waits on the lookup
        socket.disconnect();
      }
      await held;
      await new Promise((resolve) => setTimeout(resolve, 300));
      const registered = connections.socketOf(siteId);
      expect(registered === undefined || registered.connected, how).toBe(true);
      expect(connections.connectedSites(federationId).includes(siteId), how).toBe(false);
      socket.close();
    }
  });

  it('raw socket.io frames no client library sends', async () => {
    const { siteId, seed } = await enrolledSite();
    const ns = AGENT_NAMESPACE;
    const hello = JSON.stringify(['auth:hello', { siteId: 'x' }]);
    const frames: string[][] = [
      [`42${ns},["auth:hello"`], // truncated JSON
      [`42${ns},{"a":1}`], // an object where the event array belongs
      [`42${ns},[]`],
      [`42${ns},[1,2]`],
      [`42${ns},[null]`],
      [`42${ns},7[1,2]`], // a numeric event name with an ack
      [`42${ns},${hello}`], // no ack id
      [`42${ns},99999999999999999999999${hello}`],
      [`42${ns},-1${hello}`],
      [`42${ns},1["disconnect"]`, `42${ns},2["connect"]`, `42${ns},3["newListener","x"]`],
      [`42${ns},1["error",{"message":"x"}]`],
      [`42${ns},1["error"]`],
      [`43${ns},5[{}]`], // an ack for nothing
      [`451-${ns},1["auth:hello",{"_placeholder":true,"num":0}]`], // a binary event whose attachment never comes
      [`451-${ns},1["auth:hello",{"_placeholder":true,"num":7}]`, 'b' + Buffer.from('xx').toString('base64')],
      [`451-${ns},1["auth:hello",{"_placeholder":true,"num":"__proto__"}]`, 'bAAAA'],
      [`499999999-${ns},1["auth:hello"]`],
      [`44${ns},{"message":"from the client"}`],
      [`40${ns},{"version":${PROTOCOL_VERSION},"siteId":"${siteId}"}`], // a second connect to the namespace
      [`40/nowhere,{}`],
      [`41${ns},`],
      [`4`],
      [`49`],
      ['garbage'],
      [''],
      ['9'],
      [`42${ns},1["auth:hello",${JSON.stringify('x'.repeat(PRE_AUTH_FRAME))}]`],
      [`42${ns},1["auth:hello",${'['.repeat(5_000)}${']'.repeat(5_000)}]`],
      [`42${ns},1["auth:hello",${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}]`],
      [`42${ns},1["auth:hello",${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}]`], // over the frame limit
      [`42${ns},1["auth:hello",{"siteId":"\\u0000"}]`],
      [`42${ns},1["auth:hello","\\ud800"]`],
      // a binary packet nested deeper than the parser's recursive reconstruction can go
      [`451-${ns},1["auth:hello",${'['.repeat(30_000)}{"_placeholder":true,"num":0}${']'.repeat(30_000)}]`, 'bAAAA'],
    ];
    const failures: string[] = [];
    await Promise.all(
      frames.map(async (sequence) => {
        const result = await rawSession(siteId, sequence);
        for (const reply of result.acks) {
          if (!isCoded(reply)) failures.push(`${sequence[0].slice(0, 60)} -> uncoded ack ${describeValue(reply)}`);
        }
        if (!result.opened) failures.push(`${sequence[0].slice(0, 60)}: the namespace never opened`);
      }),
    );
    expect(failures, failures.join('\n')).toEqual([]);
    expect(unhandled).toEqual([]);
    expect(await healthy()).toBe(200);
    const agent = await connected({ version: PROTOCOL_VERSION, siteId });
    expect(await authenticate(agent, siteId, seed)).toEqual({ ok: true });
    agent.close();
  });
});

/**
 * One engine.io websocket session by hand: open, connect to the agents' namespace with a good handshake, send
 * `frames` verbatim ('b...' is a base64 binary frame), and collect the acks that come back within 500 ms.
 */
function rawSession(siteId: string, frames: string[]): Promise<{ opened: boolean; acks: unknown[] }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const acks: unknown[] = [];
    let opened = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      resolve({ opened, acks });
    };
    const guard = setTimeout(finish, 4000);
    ws.on('error', () => {});
    ws.on('close', () => (clearTimeout(guard), finish()));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      if (text.startsWith('0')) {
        ws.send(`40${AGENT_NAMESPACE},${JSON.stringify({ version: PROTOCOL_VERSION, siteId })}`);
      } else if (text === '2') {
        ws.send('3');
      } else if (text.startsWith(`40${AGENT_NAMESPACE},`) && !opened) {
        opened = true;
        for (const frame of frames) {
          if (frame.startsWith('b')) ws.send(Buffer.from(frame.slice(1), 'base64'));
          else ws.send(frame);
        }
        timer = setTimeout(() => (clearTimeout(guard), finish()), 500);
      } else {
        // the ack id comes back as JS prints the number (1e+23 for a huge one)
        const ack = /^43[^,[]*,[^[]*(\[.*)$/s.exec(text);
        if (ack) {
          try {
            acks.push(...(JSON.parse(ack[1]) as unknown[]));
          } catch {
            acks.push(`unparseable ack: ${text.slice(0, 80)}`);
          }
        }
      }
    });
  });
}
