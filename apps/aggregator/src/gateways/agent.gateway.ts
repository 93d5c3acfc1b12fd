import { Inject } from '@nestjs/common';
import {
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  WebSocketGateway,
} from '@nestjs/websockets';
import { AGENT_NAMESPACE, PROTOCOL_LIMITS, concordSocketParser, type ErrorReply } from '@concord/protocol';
import type { Namespace } from 'socket.io';
import type { ServerConfig } from '../config/config.schema.js';
import { findNul } from '../guards/nul-input.js';
import { AgentConnectionsRepository, type AgentSocket } from '../repositories/agent-connections.repository.js';
import { FederationRepository } from '../repositories/federation.repository.js';
import { SiteRepository } from '../repositories/site.repository.js';
import { SERVER_CONFIG } from '../repositories/tokens.js';
import { AgentAuthService, type PendingAuth } from '../services/agent-auth.service.js';
import { AgentAdmission } from './agent-admission.js';

/** Agents' socket.io endpoint: authenticates (handshake version, then challenge-response) and registers the socket. */
@WebSocketGateway({
  namespace: AGENT_NAMESPACE,
  // replaced at init by the small pre-authentication limit, raised per connection after auth (AgentAdmission)
  maxHttpBufferSize: PROTOCOL_LIMITS.maxFrameBytes,
  parser: concordSocketParser,
})
export class AgentGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    @Inject(AgentAuthService) private readonly auth: AgentAuthService,
    @Inject(AgentConnectionsRepository) private readonly connections: AgentConnectionsRepository,
    @Inject(FederationRepository) private readonly federations: FederationRepository,
    @Inject(SiteRepository) private readonly sites: SiteRepository,
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
  ) {
    this.admission = new AgentAdmission({
      preAuthMaxFrameBytes: config.agentPreAuthMaxFrameBytes,
      maxFrameBytes: PROTOCOL_LIMITS.maxFrameBytes,
      connectionsPerIp: config.agentPreAuthConnectionsPerIp,
      messagesPerMinutePerIp: config.agentPreAuthMessagesPerMinutePerIp,
    });
  }

  readonly admission: AgentAdmission;

  afterInit(namespace: Namespace): void {
    this.admission.install(namespace.server.engine as unknown as Parameters<AgentAdmission['install']>[0]);
    namespace.use((socket, next) => {
      const outcome = this.auth.checkHandshake(socket.handshake.auth);
      if (!outcome.ok) return next(Object.assign(new Error(outcome.reason), { data: { code: outcome.code } }));
      (socket.data as { pending: PendingAuth }).pending = outcome.value;
      next();
    });
  }

  handleConnection(socket: AgentSocket): void {
    const pending = (socket.data as { pending: PendingAuth }).pending;
    const timer = setTimeout(() => socket.disconnect(true), this.config.agentAuthTimeoutMs);
    socket.once('disconnect', () => clearTimeout(timer));
    // before auth: a per-IP message budget; always: no NUL (PostgreSQL refuses it in text and jsonb)
    socket.use((packet, next) => {
      if (!this.admission.allowMessage(socket.conn as never) || findNul(packet, 100_000) === 'nul') {
        socket.disconnect(true);
        return;
      }
      next();
    });
    socket.on('auth:hello', (payload, ack) => {
      if (typeof ack !== 'function') return void socket.disconnect(true);
      void this.auth.hello(pending, payload).then(
        (r) => ack(r.ok ? r.value : r),
        () => ack(internal()),
      );
    });
    socket.on('auth:prove', (payload, ack) => {
      if (typeof ack !== 'function') return void socket.disconnect(true);
      const r = this.auth.prove(pending, payload);
      if (!r.ok) {
        ack(r);
        socket.disconnect(true);
        return;
      }
      clearTimeout(timer);
      // A federation that will never run another round tells its agents so, instead of leaving them waiting.
      void this.federations.statusOf(r.value.federationId).then(
        (federation) => {
          // gone while the lookup ran (it closed, or a second proof closed it): handleDisconnect has already run,
          // so registering it now would leave a dead socket counted as a connected site until the site reconnects
          if (socket.disconnected) return;
          const closed = closedReply(federation?.status, federation?.statusReason?.message);
          if (closed) {
            ack(closed);
            // the agent closes first on this answer; then the server, so none lingers
            setTimeout(() => socket.disconnect(true), 2000).unref();
            return;
          }
          this.admission.admit(socket.conn as never);
          this.connections.add(pending.siteId, r.value.federationId, socket);
          void this.sites.touchSite(pending.siteId, new Date()).catch(() => {});
          ack({ ok: true });
        },
        () => {
          ack(internal());
          socket.disconnect(true);
        },
      );
    });
  }

  handleDisconnect(socket: AgentSocket): void {
    const pending = (socket.data as { pending?: PendingAuth }).pending;
    if (pending) this.connections.remove(pending.siteId, socket);
  }
}

/**
 * The refusal an agent gets from a federation that is over: completed or archived (E_FEDERATION_CLOSED: nothing
 * left to do) or exhausted (E_FEDERATION_EXHAUSTED: too few sites have budget for another round).
 */
export function closedReply(status: string | undefined, reason?: string): ErrorReply | undefined {
  if (status === 'completed' || status === 'archived') {
    return { ok: false, code: 'E_FEDERATION_CLOSED', reason: `the federation is ${status}: no more rounds` };
  }
  if (status === 'exhausted') {
    return { ok: false, code: 'E_FEDERATION_EXHAUSTED', reason: reason ?? 'the federation is exhausted' };
  }
  return undefined;
}

function internal(): ErrorReply {
  return { ok: false, code: 'E_INTERNAL', reason: 'internal error' };
}
