/**
 * The SecAgg+ graph seed by commit-and-reveal (coin flipping, Blum 1983), so the aggregator cannot pick the random
 * neighbour graph. Bell et al. CCS'20 §3 assume the graph is random and unknown when the corruptions are chosen;
 * a server that picks the seed could redraw it until a colluder neighbours a target.
 *
 *   S1  each member u draws r_u (32 bytes, CSPRNG) and sends c_u = SHA-256(T_commit, fed, round, u, r_u), signed
 *       with its enrolled identity; the server broadcasts the list C of commitments it received (>= t of them).
 *   S2  each member checks every signature in C and that its own c_u is in it unchanged, then reveals r_u; the
 *       server broadcasts every reveal. Each member checks each r_v against c_v: a missing or wrong reveal aborts
 *       the round (E_SEED_REVEAL_MISSING / E_SEED_REVEAL_MISMATCH).
 *   seed = SHA-256(T_seed, fed, round, H(C), (v, r_v) for v in C sorted by id), with H(C) = SHA-256(T_list, fed,
 *       round, (v, c_v) sorted). The seed and H(C) enter the advertisement and consistency signatures, so members
 *       shown different lists never accept each other's keys nor sign one survivor set.
 *
 * One honest member's r_u, uniform and hidden by the commitment until C is fixed, makes the seed uniform for every
 * choice the others make before reveals. What remains is the aborting server's bias: after seeing all reveals it can
 * withhold one and start over; agents stop after R consecutive aborted rounds (client-agent, default 3), so a
 * release comes from one of at most R draws (R - 1 aborted, then the one it keeps). Coin flipping with aborts cannot be made
 * fully unbiased (Cleve, STOC'86); this bounds the bias, it does not remove it.
 */
import { createHash } from 'node:crypto';
import {
  SECAGG_PROTOCOL_VERSION,
  SeedCommitmentsSchema,
  SeedCommitSchema,
  SeedRevealSchema,
  SeedRevealsSchema,
  type SeedCommit,
  type SeedCommitments,
  type SeedReveal,
  type SeedReveals,
} from '@concord/protocol';
import { parseMessage, sortedIds } from './checks.js';
import type { RosterEntry } from './config.js';
import { SecAggError } from './errors.js';
import {
  drawRandom,
  requireBytes,
  requireFunction,
  requireInteger,
  requireString,
  type RandomBytes,
} from './guards.js';
import { Ed25519Signer, ed25519Verify } from './keys.js';
import { bytesEqual, transcript, wipe } from './transcript.js';

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest());

/** c_u = SHA-256(tag, federation, round, client, r_u). */
export function seedCommitment(federationId: string, roundId: string, clientId: string, value: Uint8Array) {
  requireBytes(value, 'value', 32);
  return sha256(transcript('concord/secagg/v1/seed-commitment', [federationId, roundId, clientId, value]));
}

/** What a member's identity key signs in S1. */
export const signedSeedCommit = (federationId: string, roundId: string, clientId: string, commitment: Uint8Array) =>
  transcript('concord/secagg/v1/seed-commit', [federationId, roundId, clientId, commitment]);

/** H(C): the hash of the commitment list, sorted by client id. */
export function commitmentListHash(federationId: string, roundId: string, commitments: readonly SeedCommit[]) {
  const sorted = [...commitments].sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
  return sha256(
    transcript('concord/secagg/v1/seed-commitments', [
      federationId,
      roundId,
      ...sorted.flatMap((c) => [c.clientId, c.commitment]),
    ]),
  );
}

/** The graph seed from H(C) and every reveal (ordered by client id). */
export function graphSeedOf(
  federationId: string,
  roundId: string,
  listHash: Uint8Array,
  reveals: ReadonlyMap<string, Uint8Array>,
): Uint8Array {
  requireBytes(listHash, 'listHash', 32);
  const ids = sortedIds(reveals.keys());
  return sha256(
    transcript('concord/secagg/v1/graph-seed', [
      federationId,
      roundId,
      listHash,
      ...ids.flatMap((id) => [id, reveals.get(id)!]),
    ]),
  );
}

/** The seed both SecAgg+ sides put into their config, and what it binds. */
export interface AgreedSeed {
  graphSeed: Uint8Array;
  /** H(C), carried into the advertisement and consistency signatures */
  seedCommitmentsHash: Uint8Array;
  /** members whose commitment is in C (they, and only they, may advertise keys) */
  committers: string[];
}

interface FlipParams {
  federationId: string;
  roundId: string;
  roster: readonly RosterEntry[];
  threshold: number;
}

function checkParams(p: FlipParams): Map<string, Uint8Array> {
  if (typeof p !== 'object' || p === null) throw new TypeError('options must be an object');
  requireString(p.federationId, 'federationId');
  requireString(p.roundId, 'roundId');
  if (!Array.isArray(p.roster)) throw new TypeError('roster must be an array');
  requireInteger(p.threshold, 'threshold', 1, Math.max(1, p.roster.length));
  return new Map(p.roster.map((e) => [e.clientId, requireBytes(e.identityPublicKey, 'identityPublicKey', 32)]));
}

function checkHeader(p: FlipParams, m: { federationId: string; roundId: string }, what: string): void {
  if (m.federationId !== p.federationId || m.roundId !== p.roundId) {
    throw new SecAggError('E_WRONG_ROUND', `${what} belongs to another federation or round`);
  }
}

/** Checks a commitment list: roster members, one each, valid signatures, at least t. Returns id -> c_v. */
function checkCommitments(p: FlipParams, keys: Map<string, Uint8Array>, list: readonly SeedCommit[]) {
  const out = new Map<string, Uint8Array>();
  for (const c of list) {
    checkHeader(p, c, 'seed commitment');
    const key = keys.get(c.clientId);
    if (!key) throw new SecAggError('E_UNKNOWN_CLIENT', 'seed commitment from a client not in the roster');
    if (out.has(c.clientId)) throw new SecAggError('E_REPLAY', `two seed commitments from ${c.clientId}`);
    if (!ed25519Verify(key, signedSeedCommit(p.federationId, p.roundId, c.clientId, c.commitment), c.signature)) {
      throw new SecAggError('E_BAD_SIGNATURE', `seed commitment of ${c.clientId} is not signed by its identity`);
    }
    out.set(c.clientId, c.commitment);
  }
  if (out.size < p.threshold) {
    throw new SecAggError('E_TOO_FEW_SURVIVORS', `${out.size} seed commitments, threshold is ${p.threshold}`);
  }
  return out;
}

/** Checks the reveals against C: exactly one per committer, each opening its commitment. Returns the seed. */
function checkReveals(p: FlipParams, commitments: Map<string, Uint8Array>, reveals: readonly SeedReveal[]) {
  const values = new Map<string, Uint8Array>();
  for (const r of reveals) {
    checkHeader(p, r, 'seed reveal');
    const c = commitments.get(r.clientId);
    if (!c) throw new SecAggError('E_UNKNOWN_CLIENT', `seed reveal from ${r.clientId}, who did not commit`);
    if (values.has(r.clientId)) throw new SecAggError('E_REPLAY', `two seed reveals from ${r.clientId}`);
    if (!bytesEqual(seedCommitment(p.federationId, p.roundId, r.clientId, r.value), c)) {
      throw new SecAggError('E_SEED_REVEAL_MISMATCH', `seed reveal of ${r.clientId} does not open its commitment`);
    }
    values.set(r.clientId, r.value);
  }
  const missing = [...commitments.keys()].filter((id) => !values.has(id));
  if (missing.length > 0) {
    throw new SecAggError(
      'E_SEED_REVEAL_MISSING',
      `${missing.length} committed members did not reveal (${missing[0]}…)`,
    );
  }
  return values;
}

/** A member's side of the seed flip. One instance per round. */
export class SeedFlipClient {
  private readonly params: FlipParams;
  private readonly keys: Map<string, Uint8Array>;
  private readonly signer: Ed25519Signer;
  private value?: Uint8Array;
  private commitment?: Uint8Array;
  private commitments?: Map<string, Uint8Array>;
  private listHash?: Uint8Array;
  private stage: 'commit' | 'reveal' | 'finish' | 'done' | 'aborted' = 'commit';

  constructor(options: FlipParams & { clientId: string; identitySecretKey: Uint8Array; randomBytes: RandomBytes }) {
    this.keys = checkParams(options);
    this.params = options;
    requireString(options.clientId, 'clientId');
    const enrolled = this.keys.get(options.clientId);
    if (!enrolled) throw new RangeError(`clientId ${options.clientId} is not in the roster`);
    this.signer = new Ed25519Signer(options.identitySecretKey);
    if (!bytesEqual(this.signer.publicKey, enrolled))
      throw new RangeError('identitySecretKey does not match the roster');
    this.randomBytes = requireFunction<RandomBytes>(options.randomBytes, 'randomBytes');
    this.clientId = options.clientId;
  }
  readonly clientId: string;
  private readonly randomBytes: RandomBytes;

  /** True once this member revealed r_u (and after, aborted or not): from then on an abort gives the server a redraw. */
  get revealed(): boolean {
    return this.didReveal;
  }
  private didReveal = false;

  /** S1: a fresh r_u and its signed commitment. */
  commit(): SeedCommit {
    this.enter('commit');
    const { federationId, roundId } = this.params;
    this.value = drawRandom(this.randomBytes, 32);
    this.commitment = seedCommitment(federationId, roundId, this.clientId, this.value);
    this.stage = 'reveal';
    return {
      version: SECAGG_PROTOCOL_VERSION,
      federationId,
      roundId,
      clientId: this.clientId,
      stage: 'seed-commit',
      commitment: this.commitment,
      signature: this.signer.sign(signedSeedCommit(federationId, roundId, this.clientId, this.commitment)),
    };
  }

  /** S2: checks the commitment list (signatures, own commitment, >= t), then reveals r_u. */
  reveal(message: unknown): SeedReveal {
    this.enter('reveal');
    return this.guard(() => {
      const msg: SeedCommitments = parseMessage(SeedCommitmentsSchema, message, 'seed commitments');
      checkHeader(this.params, msg, 'seed commitments');
      const commitments = checkCommitments(this.params, this.keys, msg.commitments);
      const own = commitments.get(this.clientId);
      if (!own || !bytesEqual(own, this.commitment!)) {
        throw new SecAggError('E_SEED_COMMITMENT', 'the commitment list omits or alters this member’s commitment');
      }
      this.commitments = commitments;
      this.listHash = commitmentListHash(this.params.federationId, this.params.roundId, msg.commitments);
      this.stage = 'finish';
      this.didReveal = true;
      return {
        version: SECAGG_PROTOCOL_VERSION,
        federationId: this.params.federationId,
        roundId: this.params.roundId,
        clientId: this.clientId,
        stage: 'seed-reveal',
        value: this.value!.slice(),
      };
    });
  }

  /** After S2: checks every reveal against C and derives the seed. */
  finish(message: unknown): AgreedSeed {
    this.enter('finish');
    return this.guard(() => {
      const msg: SeedReveals = parseMessage(SeedRevealsSchema, message, 'seed reveals');
      checkHeader(this.params, msg, 'seed reveals');
      const values = checkReveals(this.params, this.commitments!, msg.reveals);
      if (!bytesEqual(values.get(this.clientId)!, this.value!)) {
        throw new SecAggError('E_SEED_REVEAL_MISMATCH', 'the reveals carry another value for this member');
      }
      const { federationId, roundId } = this.params;
      const seed = graphSeedOf(federationId, roundId, this.listHash!, values);
      wipe(this.value);
      this.stage = 'done';
      return { graphSeed: seed, seedCommitmentsHash: this.listHash!, committers: sortedIds(values.keys()) };
    });
  }

  abort(): void {
    wipe(this.value);
    if (this.stage !== 'done') this.stage = 'aborted';
  }

  private enter(stage: typeof this.stage): void {
    if (this.stage !== stage) {
      throw new SecAggError(this.stage === 'aborted' ? 'E_ABORTED' : 'E_WRONG_STAGE', `seed flip is at ${this.stage}`);
    }
  }

  private guard<T>(step: () => T): T {
    try {
      return step();
    } catch (error) {
      this.abort();
      throw error;
    }
  }
}

/**
 * The server's side: collects commitments, then reveals. It only relays; it learns the seed with everyone else.
 * Messages that fail a check are refused (thrown) and the sender counts as silent.
 */
export class SeedFlipServer {
  private readonly params: FlipParams;
  private readonly keys: Map<string, Uint8Array>;
  private readonly commits = new Map<string, SeedCommit>();
  private readonly reveals = new Map<string, SeedReveal>();
  private closed = false;

  constructor(options: FlipParams) {
    this.keys = checkParams(options);
    this.params = options;
  }

  receiveCommit(message: unknown): void {
    if (this.closed) throw new SecAggError('E_WRONG_STAGE', 'seed commitments are closed');
    const msg = parseMessage(SeedCommitSchema, message, 'seed commit');
    checkHeader(this.params, msg, 'seed commit');
    const key = this.keys.get(msg.clientId);
    if (!key) throw new SecAggError('E_UNKNOWN_CLIENT', 'sender is not in the roster');
    if (this.commits.has(msg.clientId)) throw new SecAggError('E_REPLAY', `second seed commit from ${msg.clientId}`);
    const signed = signedSeedCommit(this.params.federationId, this.params.roundId, msg.clientId, msg.commitment);
    if (!ed25519Verify(key, signed, msg.signature)) {
      throw new SecAggError('E_BAD_SIGNATURE', 'seed commitment is not signed by the sender’s identity key');
    }
    this.commits.set(msg.clientId, msg);
  }

  /** Ends S1: the list C to send to every committer. @throws SecAggError E_TOO_FEW_SURVIVORS below t. */
  closeCommits(): { committers: string[]; message: SeedCommitments } {
    this.closed = true;
    const committers = sortedIds(this.commits.keys());
    // Only the count is left to check: receiveCommit admitted each commitment after verifying its signature (and
    // round, roster membership, one per member); verifying them all again here would add n Ed25519 checks a round
    // and could not fail.
    if (committers.length < this.params.threshold) {
      throw new SecAggError(
        'E_TOO_FEW_SURVIVORS',
        `${committers.length} seed commitments, threshold is ${this.params.threshold}`,
      );
    }
    const { federationId, roundId } = this.params;
    const commitments = committers.map((id) => this.commits.get(id)!);
    return {
      committers,
      message: { version: SECAGG_PROTOCOL_VERSION, federationId, roundId, stage: 'seed-commitments', commitments },
    };
  }

  receiveReveal(message: unknown): void {
    if (!this.closed) throw new SecAggError('E_WRONG_STAGE', 'seed commitments are still open');
    const msg = parseMessage(SeedRevealSchema, message, 'seed reveal');
    const commit = this.commits.get(msg.clientId);
    checkHeader(this.params, msg, 'seed reveal');
    if (!commit) throw new SecAggError('E_UNKNOWN_CLIENT', 'seed reveal from a member that did not commit');
    if (this.reveals.has(msg.clientId)) throw new SecAggError('E_REPLAY', `second seed reveal from ${msg.clientId}`);
    const opened = seedCommitment(this.params.federationId, this.params.roundId, msg.clientId, msg.value);
    if (!bytesEqual(opened, commit.commitment)) {
      throw new SecAggError('E_SEED_REVEAL_MISMATCH', `seed reveal of ${msg.clientId} does not open its commitment`);
    }
    this.reveals.set(msg.clientId, msg);
  }

  /**
   * Ends S2: the reveals to send and the agreed seed. @throws SecAggError E_SEED_REVEAL_MISSING when a committer
   * did not reveal (the round must abort: going on without it would let the server pick among partial seeds).
   */
  closeReveals(): { seed: AgreedSeed; message: SeedReveals } {
    const commitments = new Map([...this.commits].map(([id, c]) => [id, c.commitment]));
    const reveals = sortedIds(this.reveals.keys()).map((id) => this.reveals.get(id)!);
    const values = checkReveals(this.params, commitments, reveals);
    const { federationId, roundId } = this.params;
    const listHash = commitmentListHash(federationId, roundId, [...this.commits.values()]);
    return {
      seed: {
        graphSeed: graphSeedOf(federationId, roundId, listHash, values),
        seedCommitmentsHash: listHash,
        committers: sortedIds(values.keys()),
      },
      message: { version: SECAGG_PROTOCOL_VERSION, federationId, roundId, stage: 'seed-reveals', reveals },
    };
  }
}
