import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { groupSameMessages, requestSites } from './site-broadcast.js';
import { requestSite } from './site-request.js';

describe('requestSites over real socket.io', () => {
  const http = createServer();
  const server = new Server(http);
  const bySite = new Map<string, Socket>();
  const clients: ClientSocket[] = [];

  beforeAll(async () => {
    server.on('connection', (socket) => bySite.set(String(socket.handshake.auth.site), socket));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as AddressInfo).port;
    for (const site of ['a', 'b', 'silent']) {
      const client = connect(`http://127.0.0.1:${port}`, { auth: { site }, transports: ['websocket'] });
      // a and b answer with who they are and what they got; `silent` never acknowledges
      client.on('ask', (payload: unknown, ack: (reply: unknown) => void) => {
        if (site !== 'silent') ack({ site, payload });
      });
      clients.push(client);
    }
    await vi.waitFor(() => expect(bySite.size).toBe(3), { timeout: 5000 });
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await server.close();
  });

  const connections = { socketOf: (siteId: string) => bySite.get(siteId) as never };

  it('encodes once, keeps each reply with its sender, and times out or refuses sites on their own', async () => {
    const encode = vi.spyOn(server.of('/').adapter as unknown as { _encode: () => unknown }, '_encode');
    const payload = { roster: [1, 2, 3], weights: new Uint8Array([9, 8, 7]) };
    const replies = requestSites(connections, ['a', 'b', 'silent', 'gone'], 'ask', payload, 300);
    expect(encode).toHaveBeenCalledTimes(1);
    const answers = Object.fromEntries(
      await Promise.all([...replies].map(async ([site, reply]) => [site, await reply] as const)),
    );
    for (const site of ['a', 'b']) {
      expect(answers[site]).toMatchObject({ site, payload: { roster: [1, 2, 3] } });
      expect(new Uint8Array((answers[site] as { payload: { weights: Buffer } }).payload.weights)).toEqual(
        payload.weights,
      );
    }
    expect(answers.silent).toMatchObject({ ok: false, code: 'E_TIMEOUT' });
    expect(answers.gone).toMatchObject({ ok: false, code: 'E_DISCONNECTED' });
    // the timed-out ack is forgotten: nothing waits on the silent socket any more
    expect(bySite.get('silent')!.acks.size).toBe(0);
    encode.mockRestore();
  });

  it('gives each broadcast its own ack id, so two in flight do not mix replies', async () => {
    const first = requestSites(connections, ['a', 'b'], 'ask', 'first', 2000);
    const second = requestSites(connections, ['a', 'b'], 'ask', 'second', 2000);
    expect(await first.get('a')).toMatchObject({ payload: 'first' });
    expect(await second.get('b')).toMatchObject({ payload: 'second' });
    expect(await second.get('a')).toMatchObject({ payload: 'second' });
  });
});

describe('groupSameMessages', () => {
  it('groups messages equal field by field (same values, same references), keeping site order', () => {
    const roster = ['a', 'b', 'c'];
    const messages = new Map<string, object>([
      ['a', { stage: 'key-roster', roster }],
      ['b', { stage: 'share-route', to: 'b', shares: [] }],
      ['c', { stage: 'key-roster', roster }],
      ['d', { stage: 'key-roster', roster: [...roster] }], // equal content, another array: not assumed equal
    ]);
    const groups = groupSameMessages(messages).map((g) => g.siteIds);
    expect(groups).toEqual([['a', 'c'], ['b'], ['d']]);
  });
});

describe('a site that disconnects while its answer is pending (found by npm run chaos)', () => {
  it('answers E_DISCONNECTED at once, through requestSite and requestSites, instead of holding the round', async () => {
    const http = createServer();
    const server = new Server(http);
    const bySite = new Map<string, Socket>();
    server.on('connection', (socket) => bySite.set(String(socket.handshake.auth.site), socket));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as AddressInfo).port;
    const clients = ['one', 'many'].map((site) => {
      const client = connect(`http://127.0.0.1:${port}`, { auth: { site }, transports: ['websocket'] });
      client.on('ask', () => client.disconnect()); // dies instead of answering
      return client;
    });
    try {
      await vi.waitFor(() => expect(bySite.size).toBe(2), { timeout: 5000 });
      const connections = { socketOf: (siteId: string) => bySite.get(siteId) as never };
      // a 10-minute ack timeout: only the disconnect can settle these within the test's timeout
      const single = requestSite(connections, 'one', 'ask', 'x', 600_000);
      const shared = requestSites(connections, ['many'], 'ask', 'x', 600_000).get('many')!;
      expect(await single).toMatchObject({ ok: false, code: 'E_DISCONNECTED' });
      expect(await shared).toMatchObject({ ok: false, code: 'E_DISCONNECTED' });
      expect(bySite.get('many')!.acks.size).toBe(0);
    } finally {
      for (const c of clients) c.disconnect();
      await server.close();
    }
  }, 20_000);
});
