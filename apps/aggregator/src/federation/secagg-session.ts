import type { SecAggServerMessage } from '@concord/protocol';
import { SecAggError, type SecAggServer, type StageOutcome } from '@concord/secagg';
import type { AgentConnectionsRepository } from '../repositories/agent-connections.repository.js';
import { isError, requestSite } from './site-request.js';

const STAGE_EVENT = {
  'key-roster': 'secagg:key-roster',
  'share-route': 'secagg:share-route',
  'consistency-request': 'secagg:consistency',
  'unmask-request': 'secagg:unmask',
} as const;

export interface StageDrop {
  siteId: string;
  code: string;
  reason: string;
}

/**
 * Drives one SecAgg+ server over the agents' sockets: each stage's messages go out with acknowledgements that time
 * out at the stage deadline; each reply is validated by the server state machine; a site that times out, errors or
 * sends an invalid message is a dropout (recorded with its code).
 */
export class SecAggSession {
  readonly drops: StageDrop[] = [];

  constructor(
    private readonly server: SecAggServer,
    private readonly connections: Pick<AgentConnectionsRepository, 'socketOf'>,
    private readonly federationId: string,
    private readonly roundId: string,
  ) {}

  /** Stage 0: ask `siteIds` to advertise keys. */
  async advertise(siteIds: readonly string[], timeoutMs: number): Promise<void> {
    await Promise.all(
      siteIds.map(async (siteId) => {
        const reply = await this.request(
          siteId,
          'secagg:advertise',
          { federationId: this.federationId, roundId: this.roundId },
          timeoutMs,
        );
        this.admit(siteId, reply);
      }),
    );
  }

  /**
   * Sends each survivor its message for the stage now open and feeds back the replies. `screen` may inspect a reply
   * first (the masked-input stage checks receipts) and return the SecAgg message to admit, or a refusal.
   */
  async exchange(
    messages: Map<string, SecAggServerMessage>,
    timeoutMs: number,
    screen?: (siteId: string, reply: unknown) => { message: unknown } | StageDrop,
  ): Promise<void> {
    await Promise.all(
      [...messages].map(async ([siteId, message]) => {
        if (message.stage === 'abort') return;
        const event = STAGE_EVENT[message.stage];
        const reply = await this.request(siteId, event, message, timeoutMs);
        if (isError(reply)) return this.drop(siteId, reply.code, reply.reason);
        if (screen) {
          const screened = screen(siteId, reply);
          if ('code' in screened) return this.drop(siteId, screened.code, screened.reason);
          return this.admit(siteId, screened.message);
        }
        this.admit(siteId, reply);
      }),
    );
  }

  /** Closes the stage (all replies are in or timed out). */
  close(stageTimeoutMs: number): Promise<StageOutcome> {
    const now = Date.now();
    const at = this.server.stageComplete ? now : Math.max(now, this.server.stageDeadline);
    return this.server.closeStage(at, at + stageTimeoutMs);
  }

  private admit(siteId: string, reply: unknown): void {
    if (isError(reply)) return this.drop(siteId, reply.code, reply.reason);
    const claimed = (reply as { clientId?: unknown } | null)?.clientId;
    if (claimed !== siteId) return this.drop(siteId, 'E_BAD_MESSAGE', 'reply names another client');
    try {
      this.server.receive(reply, Date.now());
    } catch (error) {
      if (error instanceof SecAggError) return this.drop(siteId, error.code, error.message);
      throw error;
    }
  }

  private drop(siteId: string, code: string, reason: string): void {
    this.drops.push({ siteId, code, reason: reason.slice(0, 200) });
  }

  private request(siteId: string, event: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    return requestSite(this.connections, siteId, event, payload, timeoutMs);
  }
}
