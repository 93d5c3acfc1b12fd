import type { AgentConnectionsRepository } from '../repositories/agent-connections.repository.js';
import { requestSite, untilDisconnected } from './site-request.js';

/**
 * The socket.io internals one encoding per message needs: the namespace's ack counter and adapter encoder, each
 * socket's ack table and engine writer. They are what socket.io's own broadcastWithAck (socket.io-adapter
 * in-memory-adapter.js) uses; it is not used as such because its acks do not say which socket answered.
 */
interface EncodingSocket {
  nsp: {
    name: string;
    _ids: number;
    adapter: { _encode(packet: object, opts: object): unknown[] };
  };
  acks: Map<number, (...args: unknown[]) => void>;
  client: { writeToEngine(encoded: unknown[], opts: object): void };
  notifyOutgoingListeners?: (packet: object) => void;
}

const EVENT_PACKET = 2; // socket.io-parser PacketType.EVENT

function encodingSocket(socket: unknown): EncodingSocket | undefined {
  const s = socket as Partial<EncodingSocket> | undefined;
  const ok =
    typeof s?.nsp?.adapter?._encode === 'function' &&
    typeof s.nsp._ids === 'number' &&
    s.acks instanceof Map &&
    typeof s.client?.writeToEngine === 'function';
  return ok ? (s as EncodingSocket) : undefined;
}

/**
 * Asks every site of `siteIds` the SAME thing: the payload is encoded once for all of them (a cohort's roster or
 * seed list would otherwise be serialized once per site: O(n^2) work for the aggregator). Returns each site's reply
 * as its own promise, settled when that site answers, so callers handle replies as they arrive, exactly as with
 * `requestSite` per site: a site with no socket answers E_DISCONNECTED, one that does not answer in `timeoutMs`
 * E_TIMEOUT, never a rejection. Sockets without socket.io's internals (test fakes) are asked with `requestSite`.
 */
export function requestSites(
  connections: Pick<AgentConnectionsRepository, 'socketOf'>,
  siteIds: readonly string[],
  event: string,
  payload: unknown,
  timeoutMs: number,
): Map<string, Promise<unknown>> {
  const sockets = siteIds.map((siteId) => [siteId, connections.socketOf(siteId)] as const);
  const encoding = sockets.map(([, s]) => (s ? encodingSocket(s) : undefined));
  const nsp = encoding.find((s) => s)?.nsp;
  const shared = sockets.every(([, s], i) => !s || encoding[i]?.nsp === nsp);
  if (!nsp || !shared) {
    return new Map(siteIds.map((siteId) => [siteId, requestSite(connections, siteId, event, payload, timeoutMs)]));
  }
  // one id for every socket, as broadcastWithAck does: the namespace's counter is shared, so it is unique per socket
  const packet = { type: EVENT_PACKET, data: [event, payload], nsp: nsp.name, id: nsp._ids++ };
  const opts = { preEncoded: true };
  const encoded = nsp.adapter._encode(packet, opts);
  const replies = new Map<string, Promise<unknown>>();
  sockets.forEach(([siteId], i) => {
    const socket = encoding[i];
    if (!socket) {
      replies.set(siteId, Promise.resolve({ ok: false, code: 'E_DISCONNECTED', reason: 'site is not connected' }));
      return;
    }
    const closed = untilDisconnected(socket); // a pending ack is dropped on disconnect: answer E_DISCONNECTED
    const reply = new Promise<unknown>((resolve) => {
      const timer = setTimeout(() => {
        socket.acks.delete(packet.id);
        resolve({ ok: false, code: 'E_TIMEOUT', reason: `no answer to ${event} within ${timeoutMs} ms` });
      }, timeoutMs);
      socket.acks.set(packet.id, (answer: unknown) => {
        clearTimeout(timer);
        resolve(answer);
      });
      void closed.promise.then((answer) => {
        clearTimeout(timer);
        socket.acks.delete(packet.id);
        resolve(answer);
      });
    }).finally(() => closed.cancel());
    socket.notifyOutgoingListeners?.(packet);
    socket.client.writeToEngine(encoded, opts);
    replies.set(siteId, reply);
  });
  return replies;
}

/**
 * Groups per-site messages that are equal field by field (same primitives, same object references): the SecAgg+
 * server builds one roster or survivor list and spreads it into every site's message, so such messages can share
 * one encoding. Cost O(sites x fields), no serialization.
 */
export function groupSameMessages<M extends object>(
  messages: ReadonlyMap<string, M>,
): { message: M; siteIds: string[] }[] {
  const ids = new Map<unknown, number>();
  const idOf = (v: unknown) => {
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return `${typeof v}:${String(v)}`;
    let id = ids.get(v);
    if (id === undefined) ids.set(v, (id = ids.size));
    return `ref:${id}`;
  };
  const groups = new Map<string, { message: M; siteIds: string[] }>();
  for (const [siteId, message] of messages) {
    const key = Object.entries(message)
      .map(([k, v]) => `${k}=${idOf(v)}`)
      .join('\u0000');
    const group = groups.get(key);
    if (group) group.siteIds.push(siteId);
    else groups.set(key, { message, siteIds: [siteId] });
  }
  return [...groups.values()];
}
