/**
 * One simulated data site: makes its keys on the spot, enrolls over HTTP with a one-time token (POST /api/enroll),
 * then runs the real agent runtime over socket.io. Used inline (tests) and inside a worker thread (simulate/demo).
 */
import { randomBytes } from 'node:crypto';
import { MemoryBudgetGuard, runAgent, type AgentEvent, type TrainingData } from '@concord/client-agent';
import {
  ConcordError,
  ed25519PublicKeyBase64,
  EnrollResponseSchema,
  isCodedError,
  type EnrollRequest,
} from '@concord/protocol';
import { x25519PublicKey } from '@concord/secagg';

export interface SimSiteOptions {
  /** the aggregator's URL, or its promise (virtual agents make their keys before the aggregator is up) */
  server: string | Promise<string>;
  /** the one-time enrollment token, or its promise */
  token: string | Promise<string>;
  name: string;
  cap: { epsilon: number; delta: number };
  accountant?: 'rdp' | 'prv';
  /** the shard, or how to rebuild it when a round needs it (virtual agents keep only its row indices) */
  data: TrainingData | (() => TrainingData);
  /** drop out at random: with this probability per round, stop answering after the plan (simulates a crash) */
  dropout?: number | (() => number);
  onEvent?: (event: AgentEvent) => void;
  signal?: AbortSignal;
  /** the site's Ed25519 seed (simulate makes them, to recompute the sites' validation splits; default: random) */
  identitySeed?: Uint8Array;
  /** `simulate --reproducible` only: every random draw of the site's rounds derives from it (client-agent context.ts) */
  reproducibleSeed?: Uint8Array;
  /**
   * How the enrollment request reaches the aggregator; resolves to its answer (EnrollResponse JSON) or rejects.
   * Default: POST /api/enroll. simulate's virtual agents hand it to their own in-process aggregator instead
   * (virtual-pool.ts: EnrollmentService.enrollMany, the same checks in batches; no network route).
   */
  enroll?: (request: EnrollRequest) => Promise<unknown>;
  /** awaited between enrolling and connecting (the virtual pool bounds how many sites connect at once) */
  beforeConnect?: () => Promise<void>;
}

/**
 * A simulated site the aggregator would not enroll, with the refusal's own code (E_DUPLICATE_KEY, ...). simulate
 * stops on it: the federation would otherwise wait for a site that never comes.
 */
export class SiteEnrollmentError extends ConcordError {}

/** POST /api/enroll: the answer's JSON, or an error with the refusal's code and message. */
async function enrollOverHttp(server: string, request: EnrollRequest): Promise<unknown> {
  const response = await fetch(`${server}/api/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  if (response.status === 201) return response.json();
  const body = (await response.json().catch(() => ({}))) as { code?: unknown; message?: unknown };
  const code = typeof body.code === 'string' && /^E_[A-Z0-9_]+$/.test(body.code) ? body.code : 'E_ENROLLMENT';
  throw new ConcordError(code, `HTTP ${response.status}: ${typeof body.message === 'string' ? body.message : ''}`);
}

async function enroll(o: SimSiteOptions, server: string, request: EnrollRequest) {
  try {
    return EnrollResponseSchema.parse(await (o.enroll ? o.enroll(request) : enrollOverHttp(server, request)));
  } catch (error) {
    const code = isCodedError(error) && /^E_[A-Z0-9_]+$/.test(error.code) ? error.code : 'E_ENROLLMENT';
    const why = error instanceof Error ? error.message : String(error);
    throw new SiteEnrollmentError(code, `${o.name} could not enroll: ${why}`, { cause: error });
  }
}

export async function runSimSite(o: SimSiteOptions): Promise<{ siteId: string; rounds: number }> {
  const identitySeed = o.identitySeed ?? new Uint8Array(randomBytes(32));
  const agreementSecret = new Uint8Array(randomBytes(32));
  const ed25519PublicKey = ed25519PublicKeyBase64(identitySeed);
  const x25519 = Buffer.from(x25519PublicKey(agreementSecret)).toString('base64');
  const [server, token] = await Promise.all([o.server, o.token]);
  const request: EnrollRequest = { token, ed25519PublicKey, x25519PublicKey: x25519, cap: o.cap, name: o.name };
  const enrolled = await enroll(o, server, request);
  if (!enrolled.terms) throw new Error(`enrollment of ${o.name}: the aggregator sent no privacy terms to pin`);
  await o.beforeConnect?.();
  const budget = new MemoryBudgetGuard(o.cap, o.accountant ?? 'rdp');
  const { dropout, data } = o;
  const rounds = await runAgent(
    {
      identity: {
        siteId: enrolled.siteId,
        federationId: enrolled.federationId,
        identitySeed,
        serverPublicKey: enrolled.serverPublicKey,
        terms: enrolled.terms,
      },
      get data() {
        return typeof data === 'function' ? data() : data;
      },
      budget,
      onEvent: o.onEvent,
      reproducibleSeed: o.reproducibleSeed,
      get dropoutProbability() {
        return typeof dropout === 'function' ? dropout() : dropout;
      },
    },
    { server, signal: o.signal },
  );
  return { siteId: enrolled.siteId, rounds };
}
