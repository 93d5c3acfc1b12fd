import type { IncomingMessage } from 'node:http';

/** What an unauthenticated agent connection may cost the server (config agentPreAuth*). */
export interface AdmissionLimits {
  /** largest frame before the site has proved its key (server-wide engine.io limit) */
  preAuthMaxFrameBytes: number;
  /** largest frame once it has (the protocol's PROTOCOL_LIMITS.maxFrameBytes) */
  maxFrameBytes: number;
  /** unauthenticated connections one IP may hold at once */
  connectionsPerIp: number;
  /** messages per minute that one IP's unauthenticated connections may send together */
  messagesPerMinutePerIp: number;
}

// engine.io's server and connection, as far as they are used here (its types are not a dependency of ours)
interface EngineConnection {
  request: IncomingMessage;
  transport: EngineTransport;
  on(event: 'upgrade', listener: (transport: EngineTransport) => void): unknown;
  once(event: 'close', listener: () => void): unknown;
}
interface EngineTransport {
  maxHttpBufferSize?: number;
  socket?: { _receiver?: { _maxPayload: number } };
}
interface EngineServer {
  opts: {
    maxHttpBufferSize: number;
    allowRequest?: (req: IncomingMessage, callback: (error: string | null | undefined, ok: boolean) => void) => void;
  };
  init(): void;
  on(event: 'connection', listener: (connection: EngineConnection) => void): unknown;
}

const WINDOW_MS = 60_000;

/**
 * Pre-authentication limits of the agents' socket.io endpoint. engine.io's frame limit is server-wide, so it is set
 * small (preAuthMaxFrameBytes) and raised for one connection only once its site has authenticated (auth:prove):
 * an unauthenticated client can never make the server buffer more than that per connection, and never hold more
 * than connectionsPerIp such connections. Large tensors keep travelling as one frame (no change to the protocol);
 * the raise touches the transport's own limit (polling: maxHttpBufferSize, websocket: the ws receiver's
 * maxPayload), which agent-admission.spec pins against the installed engine.io and ws.
 */
export class AgentAdmission {
  private readonly unauthenticated = new Map<string, number>();
  private readonly pending = new Map<EngineConnection, string>();
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  install(engine: EngineServer): void {
    engine.opts.maxHttpBufferSize = this.limits.preAuthMaxFrameBytes;
    engine.init(); // the websocket server reads the limit when it is made
    const previous = engine.opts.allowRequest;
    engine.opts.allowRequest = (req, callback) => {
      const isHandshake = !new URL(req.url ?? '/', 'http://x').searchParams.has('sid');
      if (isHandshake && (this.unauthenticated.get(ipOf(req)) ?? 0) >= this.limits.connectionsPerIp) {
        return callback('too many unauthenticated connections from this address', false);
      }
      if (previous) return previous(req, callback);
      callback(null, true);
    };
    engine.on('connection', (connection) => {
      const ip = ipOf(connection.request);
      this.pending.set(connection, ip);
      this.unauthenticated.set(ip, (this.unauthenticated.get(ip) ?? 0) + 1);
      connection.once('close', () => this.release(connection));
    });
  }

  /** False once the connection's IP has sent more than its unauthenticated messages this minute. */
  allowMessage(connection: EngineConnection): boolean {
    const ip = this.pending.get(connection);
    if (ip === undefined) return true; // authenticated
    const t = this.now();
    let window = this.windows.get(ip);
    if (!window || t - window.start >= WINDOW_MS) {
      window = { start: t, count: 0 };
      this.windows.set(ip, window);
      if (this.windows.size > 10_000) this.prune(t);
    }
    window.count += 1;
    return window.count <= this.limits.messagesPerMinutePerIp;
  }

  /** The site proved its key: the connection no longer counts as unauthenticated and may send full-size frames. */
  admit(connection: EngineConnection): void {
    this.release(connection);
    const raise = (transport: EngineTransport) => {
      transport.maxHttpBufferSize = this.limits.maxFrameBytes;
      const receiver = transport.socket?._receiver;
      if (receiver) receiver._maxPayload = this.limits.maxFrameBytes;
    };
    raise(connection.transport);
    connection.on('upgrade', raise);
  }

  /** Unauthenticated connections now held by `ip` (tests, metrics). */
  unauthenticatedFrom(ip: string): number {
    return this.unauthenticated.get(ip) ?? 0;
  }

  private release(connection: EngineConnection): void {
    const ip = this.pending.get(connection);
    if (ip === undefined) return;
    this.pending.delete(connection);
    const left = (this.unauthenticated.get(ip) ?? 1) - 1;
    if (left > 0) this.unauthenticated.set(ip, left);
    else this.unauthenticated.delete(ip);
  }

  private prune(t: number): void {
    for (const [ip, w] of this.windows) if (t - w.start >= WINDOW_MS) this.windows.delete(ip);
  }
}

function ipOf(req: IncomingMessage): string {
  return req.socket?.remoteAddress ?? 'unknown';
}
