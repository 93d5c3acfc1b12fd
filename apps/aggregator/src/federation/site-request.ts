import type { ErrorReply } from '@concord/protocol';
import type { AgentConnectionsRepository } from '../repositories/agent-connections.repository.js';

/**
 * The one way the round engine asks a site something: emit `event` with an acknowledgement that times out after
 * `timeoutMs`. Never throws: a site with no socket answers `E_DISCONNECTED`, and so does one whose socket closes
 * while the answer is pending (socket.io drops a pending ack on disconnect without settling it, so a dead site would
 * otherwise hold the round until `timeoutMs`, five minutes for training; found by `npm run chaos`); one that does not
 * answer in time `E_TIMEOUT`; anything the site replied (including its own error reply) is returned as is.
 */
export async function requestSite(
  connections: Pick<AgentConnectionsRepository, 'socketOf'>,
  siteId: string,
  event: string,
  payload: unknown,
  timeoutMs: number,
): Promise<unknown> {
  const socket = connections.socketOf(siteId);
  if (!socket) return { ok: false, code: 'E_DISCONNECTED', reason: 'site is not connected' } satisfies ErrorReply;
  const closed = untilDisconnected(socket);
  try {
    // socket.io's typed emitWithAck needs the event map's exact tuple; the engine sends validated protocol messages.
    const timed = socket.timeout(timeoutMs) as unknown as { emitWithAck(e: string, p: unknown): Promise<unknown> };
    return await Promise.race([timed.emitWithAck(event, payload), closed.promise]);
  } catch {
    return {
      ok: false,
      code: 'E_TIMEOUT',
      reason: `no answer to ${event} within ${timeoutMs} ms`,
    } satisfies ErrorReply;
  } finally {
    closed.cancel();
  }
}

const DISCONNECTED: ErrorReply = { ok: false, code: 'E_DISCONNECTED', reason: 'site disconnected before answering' };

/** Resolves with E_DISCONNECTED when `socket` disconnects (never, for a socket without events); `cancel` detaches. */
export function untilDisconnected(socket: unknown): { promise: Promise<ErrorReply>; cancel(): void } {
  const s = socket as {
    connected?: boolean;
    once?(e: 'disconnect', f: () => void): unknown;
    off?(e: 'disconnect', f: () => void): unknown;
  };
  let onClose = () => {};
  const promise = new Promise<ErrorReply>((resolve) => {
    onClose = () => resolve(DISCONNECTED);
  });
  if (s.connected === false) onClose();
  else s.once?.('disconnect', onClose);
  return { promise, cancel: () => s.off?.('disconnect', onClose) };
}

export function isError(reply: unknown): reply is ErrorReply {
  return typeof reply === 'object' && reply !== null && (reply as { ok?: unknown }).ok === false;
}
