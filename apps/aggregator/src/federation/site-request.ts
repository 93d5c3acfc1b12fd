import type { ErrorReply } from '@concord/protocol';
import type { AgentConnectionsRepository } from '../repositories/agent-connections.repository.js';

/**
 * The one way the round engine asks a site something: emit `event` with an acknowledgement that times out after
 * `timeoutMs`. Never throws: a site with no socket answers `E_DISCONNECTED`, one that does not answer in time
 * `E_TIMEOUT`, and anything the site replied (including its own error reply) is returned as is.
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
  try {
    // socket.io's typed emitWithAck needs the event map's exact tuple; the engine sends validated protocol messages.
    const timed = socket.timeout(timeoutMs) as unknown as { emitWithAck(e: string, p: unknown): Promise<unknown> };
    return await timed.emitWithAck(event, payload);
  } catch {
    return {
      ok: false,
      code: 'E_TIMEOUT',
      reason: `no answer to ${event} within ${timeoutMs} ms`,
    } satisfies ErrorReply;
  }
}

export function isError(reply: unknown): reply is ErrorReply {
  return typeof reply === 'object' && reply !== null && (reply as { ok?: unknown }).ok === false;
}
