import type { SecAggServerMessage, SeedReveals } from '@concord/protocol';
import {
  SecAggError,
  type AgreedSeed,
  type SecAggServer,
  type SeedFlipServer,
  type StageOutcome,
} from '@concord/secagg';
import type { AgentConnectionsRepository } from '../repositories/agent-connections.repository.js';
import { groupSameMessages, requestSites } from './site-broadcast.js';
import { isError } from './site-request.js';

const STAGE_EVENT = {
  'seed-commitments': 'secagg:seed-reveal',
  'seed-reveals': 'secagg:advertise',
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

  private serverOrUndefined?: SecAggServer;

  /** `server` may be bound later (`bind`), once the seed flip has fixed the graph seed. */
  constructor(
    server: SecAggServer | undefined,
    private readonly connections: Pick<AgentConnectionsRepository, 'socketOf'>,
    private readonly federationId: string,
    private readonly roundId: string,
  ) {
    this.serverOrUndefined = server;
  }

  bind(server: SecAggServer): void {
    this.serverOrUndefined = server;
  }

  private get server(): SecAggServer {
    if (!this.serverOrUndefined) throw new SecAggError('E_WRONG_STAGE', 'no SecAgg+ server bound to this session yet');
    return this.serverOrUndefined;
  }

  /**
   * Stages S1-S2, the graph seed by commit-and-reveal (@concord/secagg seed-flip.ts): asks `siteIds` for signed
   * commitments, sends the list to the committers, collects their reveals. A site that fails either stage is a
   * dropout; a committer that does not reveal aborts the round (E_SEED_REVEAL_MISSING, thrown), as does a list
   * below t (E_TOO_FEW_SURVIVORS).
   */
  async drawSeed(
    flip: SeedFlipServer,
    siteIds: readonly string[],
    timeoutMs: number,
  ): Promise<{ seed: AgreedSeed; reveals: SeedReveals }> {
    const header = { federationId: this.federationId, roundId: this.roundId };
    await this.requestAll(siteIds, 'secagg:seed-commit', header, timeoutMs, (siteId, reply) =>
      this.admitWith(siteId, reply, (m) => flip.receiveCommit(m)),
    );
    const { committers, message } = flip.closeCommits();
    await this.requestAll(committers, 'secagg:seed-reveal', message, timeoutMs, (siteId, reply) =>
      this.admitWith(siteId, reply, (m) => flip.receiveReveal(m)),
    );
    const { seed, message: reveals } = flip.closeReveals();
    return { seed, reveals };
  }

  /** Stage 0: send `siteIds` (the committers) every seed reveal; each checks them and advertises keys. */
  async advertise(siteIds: readonly string[], reveals: SeedReveals, timeoutMs: number): Promise<void> {
    await this.requestAll(siteIds, 'secagg:advertise', reveals, timeoutMs, (siteId, reply) =>
      this.admit(siteId, reply),
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
    // the server spreads one roster or survivor list into every site's message: equal messages share one encoding
    const groups = groupSameMessages(messages).filter((g) => g.message.stage !== 'abort');
    await Promise.all(
      groups.map(({ message, siteIds }) =>
        this.requestAll(
          siteIds,
          STAGE_EVENT[message.stage as keyof typeof STAGE_EVENT],
          message,
          timeoutMs,
          (siteId, reply) => {
            if (isError(reply)) return this.drop(siteId, reply.code, reply.reason);
            if (screen) {
              const screened = screen(siteId, reply);
              if ('code' in screened) return this.drop(siteId, screened.code, screened.reason);
              return this.admit(siteId, screened.message);
            }
            this.admit(siteId, reply);
          },
        ),
      ),
    );
  }

  /** Closes the stage (all replies are in or timed out). */
  close(stageTimeoutMs: number): Promise<StageOutcome> {
    const now = Date.now();
    const at = this.server.stageComplete ? now : Math.max(now, this.server.stageDeadline);
    return this.server.closeStage(at, at + stageTimeoutMs);
  }

  private admit(siteId: string, reply: unknown): void {
    this.admitWith(siteId, reply, (m) => this.server.receive(m, Date.now()));
  }

  private admitWith(siteId: string, reply: unknown, receive: (message: unknown) => void): void {
    if (isError(reply)) return this.drop(siteId, reply.code, reply.reason);
    const claimed = (reply as { clientId?: unknown } | null)?.clientId;
    if (claimed !== siteId) return this.drop(siteId, 'E_BAD_MESSAGE', 'reply names another client');
    try {
      receive(reply);
    } catch (error) {
      if (error instanceof SecAggError) return this.drop(siteId, error.code, error.message);
      throw error;
    }
  }

  private drop(siteId: string, code: string, reason: string): void {
    this.drops.push({ siteId, code, reason: reason.slice(0, 200) });
  }

  /** Sends `payload` to every site (one encoding: site-broadcast.ts) and handles each reply as it arrives. */
  private async requestAll(
    siteIds: readonly string[],
    event: string,
    payload: unknown,
    timeoutMs: number,
    onReply: (siteId: string, reply: unknown) => void,
  ): Promise<void> {
    const replies = requestSites(this.connections, siteIds, event, payload, timeoutMs);
    await Promise.all([...replies].map(async ([siteId, reply]) => onReply(siteId, await reply)));
  }
}
