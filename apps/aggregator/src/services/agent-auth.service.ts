import {
  AuthHelloSchema,
  AuthProveSchema,
  HandshakeAuthSchema,
  PROTOCOL_VERSION,
  SIGNING_DOMAINS,
  ed25519KeyProblem,
  freshNonce,
  verifyValue,
  type AuthChallenge,
  type ErrorReply,
} from '@concord/protocol';
import type { SiteRepository } from '../repositories/site.repository.js';
import type { KeyRepository } from '../repositories/key.repository.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type AuthOutcome<T> = { ok: true; value: T } | ErrorReply;

function fail(code: string, reason: string): ErrorReply {
  return { ok: false, code, reason };
}

/** One connection's challenge state. A server nonce is answered once: a second proof is a replay. */
export interface PendingAuth {
  siteId: string;
  clientNonce?: string;
  serverNonce?: string;
  federationId?: string;
  identityPublicKey?: string;
  /** set before the first hello's lookup, so concurrent hellos on one connection cannot all be answered */
  helloSeen?: boolean;
  done?: boolean;
}

/**
 * Mutual challenge-response (both sides sign a transcript holding both fresh nonces):
 * handshake (version + siteId) -> auth:hello {clientNonce} -> ack {serverNonce, aggregator signature}
 * -> auth:prove {site signature} -> ack ok. The agent checks the aggregator's signature with the key it pinned at
 * enrollment; the aggregator checks the site's with the key it registered.
 */
export class AgentAuthService {
  constructor(
    private readonly sites: Pick<SiteRepository, 'getSiteCoalesced'>,
    private readonly keys: KeyRepository,
  ) {}

  checkHandshake(auth: unknown): AuthOutcome<PendingAuth> {
    const version = (auth as { version?: unknown } | null)?.version;
    if (version !== PROTOCOL_VERSION) {
      return fail('E_VERSION', `protocol version ${String(version)} is not ${PROTOCOL_VERSION}`);
    }
    const parsed = HandshakeAuthSchema.safeParse(auth);
    if (!parsed.success) return fail('E_BAD_MESSAGE', 'handshake auth must be { version, siteId }');
    if (!UUID.test(parsed.data.siteId)) return fail('E_UNKNOWN_SITE', 'unknown site');
    return { ok: true, value: { siteId: parsed.data.siteId } };
  }

  async hello(pending: PendingAuth, payload: unknown): Promise<AuthOutcome<AuthChallenge>> {
    const parsed = AuthHelloSchema.safeParse(payload);
    if (!parsed.success) return fail('E_BAD_MESSAGE', 'auth:hello must be { siteId, clientNonce }');
    if (parsed.data.siteId !== pending.siteId) return fail('E_BAD_MESSAGE', 'siteId differs from the handshake');
    if (pending.helloSeen) return fail('E_REPLAY', 'one auth:hello per connection');
    pending.helloSeen = true;
    const site = await this.sites.getSiteCoalesced(pending.siteId);
    if (!site) return fail('E_UNKNOWN_SITE', 'unknown site');
    if (site.status !== 'active') return fail('E_SITE_SUSPENDED', `site is ${site.status}`);
    // a key stored before keys were checked as points (see the boot-time report) cannot authenticate
    const keyProblem = ed25519KeyProblem(site.identityPublicKey);
    if (keyProblem) return fail(keyProblem, 'the enrolled identity key is refused; enroll the site again');
    pending.clientNonce = parsed.data.clientNonce;
    pending.serverNonce = freshNonce();
    pending.federationId = site.federationId;
    pending.identityPublicKey = site.identityPublicKey;
    const transcript = { siteId: pending.siteId, clientNonce: pending.clientNonce, serverNonce: pending.serverNonce };
    return {
      ok: true,
      value: {
        serverNonce: pending.serverNonce,
        serverSignature: this.keys.sign(SIGNING_DOMAINS.serverAuth, transcript),
      },
    };
  }

  prove(pending: PendingAuth, payload: unknown): AuthOutcome<{ federationId: string }> {
    const parsed = AuthProveSchema.safeParse(payload);
    if (!parsed.success) return fail('E_BAD_MESSAGE', 'auth:prove must be { signature }');
    if (!pending.serverNonce || !pending.clientNonce) return fail('E_UNAUTHENTICATED', 'auth:hello first');
    if (pending.done) return fail('E_REPLAY', 'this challenge was already answered');
    pending.done = true;
    const transcript = { siteId: pending.siteId, clientNonce: pending.clientNonce, serverNonce: pending.serverNonce };
    if (!verifyValue(SIGNING_DOMAINS.siteAuth, transcript, parsed.data.signature, pending.identityPublicKey)) {
      return fail('E_BAD_SIGNATURE', 'the challenge signature does not verify with the enrolled key');
    }
    return { ok: true, value: { federationId: pending.federationId! } };
  }
}
