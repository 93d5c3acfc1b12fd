/**
 * The rogue aggregator over a real socket.io connection: a plain socket.io server that holds the aggregator's
 * signing key authenticates a real agent (runAgent: the transport, the runtime, a file ledger), sends it validly
 * signed plans that break its pinned terms, and records every event the agent emits. After each refused plan the
 * agent's only message is the refusal (the plan's acknowledgement) and its ledger file is unchanged.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Server, type Socket } from 'socket.io';
import { AGENT_NAMESPACE, concordSocketParser, freshNonce, SIGNING_DOMAINS, signValue } from '@concord/protocol';
import { runAgent } from '../../apps/client-agent/src/index.js';
import { DISTRIBUTED_TERMS, RogueAggregator } from './harness.js';

describe('rogue aggregator over socket.io', () => {
  let io: Server;
  let url: string;
  const rogue = new RogueAggregator(10, DISTRIBUTED_TERMS);
  const site = rogue.sites[0];
  const emitted: string[] = [];
  let connected: (socket: Socket) => void;
  const agentSocket = new Promise<Socket>((resolve) => (connected = resolve));

  beforeAll(async () => {
    const http = createServer();
    io = new Server(http, { parser: concordSocketParser });
    io.of(AGENT_NAMESPACE).on('connection', (socket) => {
      socket.onAny((event: string) => emitted.push(event));
      socket.on('auth:hello', (hello: { siteId: string; clientNonce: string }, ack: (r: unknown) => void) => {
        const serverNonce = freshNonce();
        const transcript = { siteId: hello.siteId, clientNonce: hello.clientNonce, serverNonce };
        ack({ serverNonce, serverSignature: signValue(SIGNING_DOMAINS.serverAuth, transcript, rogue.seed) });
      });
      socket.on('auth:prove', (_m: unknown, ack: (r: unknown) => void) => {
        ack({ ok: true });
        connected(socket);
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => io.close(() => resolve()));
    rogue.close();
  });

  it('answers a mode switch and an inflated noise claim with the refusal only; the ledger is untouched', async () => {
    const run = runAgent(
      {
        identity: {
          siteId: site.siteId,
          federationId: rogue.federationId,
          identitySeed: site.seed,
          serverPublicKey: rogue.publicKey,
          terms: DISTRIBUTED_TERMS,
        },
        data: site.data,
        budget: site.budget,
      },
      { server: url, reconnectDelayMs: 50 },
    );
    const socket = await agentSocket;
    expect(emitted).toEqual(['auth:hello', 'auth:prove']);
    const ledger = rogue.ledgerBytes(site);

    const none = structuredClone(rogue.validPlan());
    none.privacy = { mode: 'none', batchSize: 8, steps: 2 };
    none.secagg.vectorLength = 15;
    const inflated = structuredClone(rogue.validPlan());
    const d = (inflated.privacy as { distributed: { minNoisyClients: number; localNoiseVariance: number } })
      .distributed;
    d.minNoisyClients *= 10;
    d.localNoiseVariance /= 10;
    for (const [plan, code] of [
      [none, 'E_TERMS_MODE'],
      [inflated, 'E_PLAN_DERIVED'],
    ] as const) {
      const reply = await socket.timeout(10_000).emitWithAck('round:plan', rogue.sign(plan));
      expect(reply).toMatchObject({ ok: false, code });
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(emitted).toEqual(['auth:hello', 'auth:prove']); // nothing but the two acknowledgements
    expect(rogue.ledgerBytes(site)).toBe(ledger);

    socket.emit('federation:done', { federationId: rogue.federationId, rounds: 0 });
    await expect(run).resolves.toBe(0);
  });
});
