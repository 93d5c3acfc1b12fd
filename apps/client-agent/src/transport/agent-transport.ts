import {
  AGENT_NAMESPACE,
  AuthChallengeSchema,
  PROTOCOL_VERSION,
  SIGNING_DOMAINS,
  concordSocketParser,
  freshNonce,
  signValue,
  verifyValue,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '@concord/protocol';
import { io, type Socket } from 'socket.io-client';
import { AgentRuntime } from '../runtime/agent-runtime.js';
import type { AgentContext } from '../runtime/context.js';

export class TransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'TransportError';
  }
}

export interface TransportOptions {
  /** http(s):// or ws(s):// URL of the aggregator */
  server: string;
  /** PEM CA bundle to trust for https/wss (e.g. a private CA); default: the system's */
  ca?: string;
  ackTimeoutMs?: number;
  reconnectDelayMs?: number;
  reconnectDelayMaxMs?: number;
  signal?: AbortSignal;
}

/** Accepts ws(s):// as well as http(s)://; socket.io wants the http(s) form. */
export function normaliseServerUrl(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new TransportError('E_BAD_URL', `not a URL: ${server}`);
  }
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TransportError('E_BAD_URL', `unsupported scheme ${url.protocol} (use http, https, ws or wss)`);
  }
  return url.origin;
}

/** Node's codes for a server certificate that does not verify (not for network failures, which are retried). */
const TLS_TRUST_ERRORS: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** True for an error code that says the server's certificate is not trusted: retrying will not help, `--ca` will. */
export function isTlsTrustError(code: string | undefined): boolean {
  return code !== undefined && TLS_TRUST_ERRORS.has(code);
}

/** socket.io-client wraps the websocket failure: connect_error.description is ws's ErrorEvent, whose .error is Node's. */
function transportCause(error: Error & { description?: unknown }): { code?: string; message: string } {
  const event = error.description as { error?: { code?: unknown; message?: unknown }; message?: unknown } | undefined;
  const inner = event?.error;
  const code = typeof inner?.code === 'string' ? inner.code : undefined;
  const message =
    typeof inner?.message === 'string'
      ? inner.message
      : typeof event?.message === 'string'
        ? event.message
        : error.message;
  return { code, message };
}

/**
 * Connects the site to the aggregator and runs rounds until the federation is done (resolves with the number of
 * released rounds) or `signal` aborts. socket.io-client reconnects with exponential backoff and jitter; after every
 * (re)connection the agent authenticates again: it checks the aggregator's signature over both fresh nonces with
 * the PINNED key (an impostor is refused, E_BAD_SIGNATURE), then signs the same transcript with its identity key.
 */
/**
 * Refusals after which reconnecting cannot help: an impostor aggregator, an unknown or suspended site, a federation
 * that is over (completed/archived: E_FEDERATION_CLOSED; no budget left among its sites: E_FEDERATION_EXHAUSTED).
 */
const OVER = new Set(['E_FEDERATION_CLOSED', 'E_FEDERATION_EXHAUSTED']);
const FINAL_AUTH_CODES = new Set([
  'E_BAD_SIGNATURE',
  'E_UNKNOWN_SITE',
  'E_SITE_SUSPENDED',
  'E_FEDERATION_CLOSED',
  'E_FEDERATION_EXHAUSTED',
]);

export async function runAgent(context: AgentContext, options: TransportOptions): Promise<number> {
  const runtime = new AgentRuntime(context);
  const { identity } = context;
  const ackTimeoutMs = options.ackTimeoutMs ?? 15_000;
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(
    normaliseServerUrl(options.server) + AGENT_NAMESPACE,
    {
      auth: { version: PROTOCOL_VERSION, siteId: identity.siteId },
      transports: ['websocket'],
      reconnection: true,
      reconnectionDelay: options.reconnectDelayMs ?? 500,
      reconnectionDelayMax: options.reconnectDelayMaxMs ?? 10_000,
      randomizationFactor: 0.5,
      ca: options.ca,
      parser: concordSocketParser,
    },
  );
  let failStop: ((e: TransportError) => void) | undefined;
  const stopped = new Promise<never>((_, reject) => (failStop = reject));
  stopped.catch(() => {});
  let exiting = false;
  const stop = (error: TransportError) => {
    exiting = true;
    // a federation that is over is reported once, by the CLI's exit line
    if (!OVER.has(error.code)) context.onEvent?.({ type: 'error', code: error.code, message: error.message });
    failStop?.(error);
  };

  const handlers = runtime.handlers();
  for (const [event, handler] of Object.entries(handlers)) {
    (socket.on as (e: string, h: (...args: unknown[]) => void) => void)(event, (...args: unknown[]) => {
      const dispatch = () => (handler as (...a: unknown[]) => void)(...args);
      if ((socket as { authenticated?: boolean }).authenticated) return dispatch();
      // The aggregator may speak as soon as it accepted our proof, before its ack reaches us.
      if (authenticating) return void authenticating.then(dispatch, () => refuse(args));
      refuse(args);
    });
  }

  let authenticating: Promise<void> | undefined;
  const refuse = (args: unknown[]) => {
    const ack = args[args.length - 1];
    if (typeof ack === 'function') ack({ ok: false, code: 'E_UNAUTHENTICATED', reason: 'not authenticated' });
  };
  socket.on('connect', () => {
    context.onEvent?.({ type: 'connected' });
    authenticating = authenticate();
    void authenticating.catch((error: unknown) => {
      const e =
        error instanceof TransportError
          ? error
          : new TransportError('E_AUTH', String((error as Error)?.message ?? error));
      if (FINAL_AUTH_CODES.has(e.code)) stop(e);
      else socket.disconnect().connect();
    });
  });
  socket.on('disconnect', (reason) => {
    (socket as { authenticated?: boolean }).authenticated = false;
    runtime.connectionLost();
    // "reconnecting" only when socket.io will reconnect: not when this agent closes it (exiting) or is stopping
    if (!exiting && reason !== 'io client disconnect') context.onEvent?.({ type: 'disconnected', reason });
  });
  socket.on('connect_error', (error: Error & { data?: { code?: string }; description?: unknown }) => {
    if (error.data?.code === 'E_VERSION' || error.data?.code === 'E_UNKNOWN_SITE') {
      return stop(new TransportError(error.data.code, error.message));
    }
    const cause = transportCause(error);
    // A certificate the agent does not trust will not become trusted by retrying: stop and say how to fix it.
    if (isTlsTrustError(cause.code)) {
      return stop(
        new TransportError(
          'E_TLS',
          `the aggregator's TLS certificate is not trusted (${cause.message}); trust its CA with --ca FILE (or NODE_EXTRA_CA_CERTS)`,
        ),
      );
    }
    context.onEvent?.({ type: 'connect-failed', message: cause.message });
  });

  async function authenticate(): Promise<void> {
    const clientNonce = freshNonce();
    const challenge = await socket
      .timeout(ackTimeoutMs)
      .emitWithAck('auth:hello', { siteId: identity.siteId, clientNonce });
    const parsed = AuthChallengeSchema.safeParse(challenge);
    if (!parsed.success) {
      const code = (challenge as { code?: unknown } | null)?.code;
      throw new TransportError(typeof code === 'string' ? code : 'E_BAD_MESSAGE', 'aggregator refused the hello');
    }
    const transcript = { siteId: identity.siteId, clientNonce, serverNonce: parsed.data.serverNonce };
    if (!verifyValue(SIGNING_DOMAINS.serverAuth, transcript, parsed.data.serverSignature, identity.serverPublicKey)) {
      throw new TransportError('E_BAD_SIGNATURE', 'the aggregator did not sign with the pinned key');
    }
    const reply = await socket
      .timeout(ackTimeoutMs)
      .emitWithAck('auth:prove', { signature: signValue(SIGNING_DOMAINS.siteAuth, transcript, identity.identitySeed) });
    if (!(reply as { ok?: unknown }).ok) {
      const { code, reason } = reply as { code?: unknown; reason?: unknown };
      // the reason is shown to the operator as is: keep it one short line of text
      const why = typeof reason === 'string' ? reason.replace(/[\u0000-\u001f]/g, ' ').slice(0, 200) : '';
      throw new TransportError(
        typeof code === 'string' ? code : 'E_AUTH',
        why ? `the aggregator refused the proof: ${why}` : 'the aggregator refused the proof',
      );
    }
    (socket as { authenticated?: boolean }).authenticated = true;
    context.onEvent?.({ type: 'authenticated' });
  }

  const aborted = new Promise<never>((_, reject) => {
    if (!options.signal) return;
    const onAbort = () => reject(new TransportError('E_ABORTED', 'stopped'));
    if (options.signal.aborted) onAbort();
    options.signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    return await Promise.race([runtime.done, stopped, aborted]);
  } finally {
    exiting = true;
    runtime.connectionLost();
    socket.close();
    // no 'disconnected' event here: it reads "reconnecting", and the agent is exiting (the CLI reports the error)
  }
}
