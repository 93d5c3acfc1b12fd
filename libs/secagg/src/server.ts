/**
 * The server side of SecAgg+ (Bell et al. CCS'20 / Bonawitz et al. CCS'17 §4): collects each stage's messages until
 * the caller closes the stage (at its deadline, or early once every expected client answered), then either
 * broadcasts the next stage or aborts cleanly when fewer than t clients remain. Aborting reveals nothing: shares are
 * only requested after the consistency check, and no partial sum is ever returned.
 *
 * Memory: masked inputs are summed on arrival (one d-word accumulator), never stored per client.
 */
import {
  AdvertiseKeysSchema,
  packedByteLength,
  ConsistencySignatureSchema,
  MaskedInputSchema,
  SECAGG_PROTOCOL_VERSION,
  ShareKeysSchema,
  UnmaskSharesSchema,
  type AdvertiseKeys,
  type EncryptedShare,
  type SecAggAbort,
  type SecAggServerMessage,
} from '@concord/protocol';
import { checkRound, parseMessage, sortedIds } from './checks.js';
import {
  modulusBitsOf,
  pairSign,
  planRound,
  seedBinding,
  shareX,
  type RoundPlan,
  type SecAggConfig,
} from './config.js';
import { SecAggError } from './errors.js';
import { requireFinite } from './guards.js';
import { derivePairKey } from './kdf.js';
import { X25519Secret, checkPeerKey, ed25519Verify } from './keys.js';
import { signedAdvertise, signedMaskedInput, signedShareKeys, signedSurvivors, signedUnmask } from './messages.js';
import { addPackedWords, centreModulo, unpackWords } from './packing.js';
import { applyMasks, defaultMaskExpander, type MaskExpander, type MaskJob } from './prg.js';
import { shamirCombine } from './shamir.js';
import { bytesEqual, bytesToWords, wipe } from './transcript.js';

export type ServerStage =
  'advertise-keys' | 'share-keys' | 'masked-input' | 'consistency' | 'unmask' | 'done' | 'aborted';

export type StageOutcome =
  | { status: 'next'; stage: ServerStage; messages: Map<string, SecAggServerMessage> }
  | { status: 'aborted'; error: SecAggError; messages: Map<string, SecAggAbort> }
  | { status: 'done'; sum: Uint32Array; survivors: string[] };

export interface SecAggServerOptions {
  config: SecAggConfig;
  /** Deadline of the first stage (advertise keys), in the caller's clock units (e.g. ms since epoch). */
  deadline: number;
  maskExpander?: MaskExpander;
}

export class SecAggServer {
  readonly plan: RoundPlan;
  private stage: ServerStage = 'advertise-keys';
  private deadline: number;
  private readonly expander?: MaskExpander;
  /** Clients allowed to speak in the current stage (the previous stage's survivors). */
  private expected: Set<string>;
  private received = new Set<string>();
  private advertisements = new Map<string, AdvertiseKeys>();
  private advertisedKeys = new Set<string>();
  private u2 = new Set<string>();
  private outbox = new Map<string, EncryptedShare[]>();
  private u3 = new Set<string>();
  private survivorList: string[] = [];
  private droppedList: string[] = [];
  private consistencySignatures = new Map<string, Uint8Array>();
  private accumulator?: Uint32Array;
  private revealed = new Map<string, Uint8Array[]>(); // owner -> shares received (one kind per owner by design)
  private sum?: Uint32Array;
  private abortError?: SecAggError;

  constructor(options: SecAggServerOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    this.plan = planRound(options.config);
    this.deadline = requireFinite(options.deadline, 'options.deadline', -Infinity, Infinity);
    if (options.maskExpander !== undefined && typeof options.maskExpander?.maskAdd !== 'function') {
      throw new TypeError('options.maskExpander must have a maskAdd function');
    }
    this.expander = options.maskExpander;
    this.expected = new Set(this.plan.ids);
  }

  get currentStage(): ServerStage {
    return this.stage;
  }
  get stageDeadline(): number {
    return this.deadline;
  }
  /** Clients that may still answer in this stage and have not yet. */
  get pending(): string[] {
    return sortedIds([...this.expected].filter((id) => !this.received.has(id)));
  }
  /** True when every expected client answered: the caller may close the stage before its deadline. */
  get stageComplete(): boolean {
    return this.received.size === this.expected.size;
  }

  /**
   * Accepts one client message for the current stage.
   * @param now the caller's clock, same units as the deadlines; a message after the deadline is refused (E_LATE).
   * @throws SecAggError E_BAD_MESSAGE, E_WRONG_ROUND, E_WRONG_STAGE, E_UNKNOWN_CLIENT, E_LATE, E_REPLAY,
   *   E_BAD_SIGNATURE, E_BAD_LENGTH, E_DUPLICATE_KEY, E_INCONSISTENT_DROPS. The message is ignored; the round goes on.
   */
  receive(message: unknown, now: number): void {
    requireFinite(now, 'now', -Infinity, Infinity);
    if (this.stage === 'done' || this.stage === 'aborted') {
      throw new SecAggError(this.stage === 'aborted' ? 'E_ABORTED' : 'E_WRONG_STAGE', `round is ${this.stage}`);
    }
    const stage = (message as { stage?: unknown } | null)?.stage;
    const wanted = STAGE_MESSAGE[this.stage];
    if (stage !== wanted) {
      if (typeof stage === 'string' && Object.values(STAGE_MESSAGE).includes(stage)) {
        throw new SecAggError('E_WRONG_STAGE', `got ${stage} while collecting ${wanted}`);
      }
      throw new SecAggError('E_BAD_MESSAGE', `expected a ${wanted} message`);
    }
    if (now > this.deadline) throw new SecAggError('E_LATE', `${wanted} after the stage deadline`);
    switch (this.stage) {
      case 'advertise-keys':
        return this.onAdvertise(message);
      case 'share-keys':
        return this.onShareKeys(message);
      case 'masked-input':
        return this.onMaskedInput(message);
      case 'consistency':
        return this.onConsistency(message);
      case 'unmask':
        return this.onUnmask(message);
    }
  }

  /**
   * Closes the current stage. Allowed once `now` reaches the deadline, or earlier when every expected client has
   * answered. Returns the messages to send (per client) or an abort.
   * @param nextDeadline deadline of the stage that opens now (ignored when the round ends).
   */
  async closeStage(now: number, nextDeadline: number): Promise<StageOutcome> {
    requireFinite(now, 'now', -Infinity, Infinity);
    requireFinite(nextDeadline, 'nextDeadline', -Infinity, Infinity);
    if (this.stage === 'done' || this.stage === 'aborted') {
      throw new SecAggError(this.stage === 'aborted' ? 'E_ABORTED' : 'E_WRONG_STAGE', `round is ${this.stage}`);
    }
    if (now < this.deadline && !this.stageComplete) {
      throw new SecAggError('E_WRONG_STAGE', 'the stage deadline has not passed and clients are still pending');
    }
    const { threshold } = this.plan.config;
    if (this.received.size < threshold) {
      return this.abort(
        new SecAggError(
          'E_TOO_FEW_SURVIVORS',
          `${this.received.size} clients answered ${this.stage}, need ${threshold}`,
        ),
      );
    }
    const survivors = sortedIds(this.received);
    const header = {
      version: SECAGG_PROTOCOL_VERSION,
      federationId: this.plan.config.federationId,
      roundId: this.plan.config.roundId,
    } as const;
    const messages = new Map<string, SecAggServerMessage>();
    switch (this.stage) {
      case 'advertise-keys': {
        // each site gets its neighbourhood only (O(k) entries, not O(n)); with the complete graph every
        // neighbourhood is the whole cohort, so one message (one encoding) serves everyone
        const rosterOf = (holders: readonly string[]) => ({
          ...header,
          stage: 'key-roster' as const,
          advertisements: holders.filter((h) => this.received.has(h)).map((h) => this.advertisements.get(h)!),
          absent: holders.filter((h) => !this.received.has(h)),
        });
        const complete = this.plan.config.neighbours === this.plan.n - 1 ? rosterOf(this.plan.ids) : undefined;
        for (const id of survivors) messages.set(id, complete ?? rosterOf(this.plan.holdersOf.get(id)!));
        return this.advance('share-keys', survivors, nextDeadline, messages);
      }
      case 'share-keys': {
        this.u2 = new Set(survivors);
        for (const id of survivors) {
          const shares = (this.outbox.get(id) ?? []).filter((s) => this.u2.has(s.from));
          messages.set(id, { ...header, stage: 'share-route', to: id, shares });
        }
        this.outbox.clear();
        return this.advance('masked-input', survivors, nextDeadline, messages);
      }
      case 'masked-input': {
        this.u3 = new Set(survivors);
        this.survivorList = survivors;
        this.droppedList = sortedIds([...this.u2].filter((id) => !this.u3.has(id)));
        for (const id of survivors) messages.set(id, { ...header, stage: 'consistency-request', survivors });
        return this.advance('consistency', survivors, nextDeadline, messages);
      }
      case 'consistency': {
        // each signer gets its neighbourhood's signatures and dropped neighbours only: it holds shares of its
        // neighbours alone, and it already has the survivor set it signed
        const signed = new Set(survivors);
        const requestOf = (holders: readonly string[]) => ({
          ...header,
          stage: 'unmask-request' as const,
          dropped: holders.filter((h) => this.u2.has(h) && !this.u3.has(h)),
          signatures: holders
            .filter((h) => signed.has(h))
            .map((clientId) => ({ clientId, signature: this.consistencySignatures.get(clientId)! })),
        });
        const complete = this.plan.config.neighbours === this.plan.n - 1 ? requestOf(this.plan.ids) : undefined;
        for (const id of survivors) messages.set(id, complete ?? requestOf(this.plan.holdersOf.get(id)!));
        return this.advance('unmask', survivors, nextDeadline, messages);
      }
      case 'unmask':
        return this.unmask();
    }
  }

  /**
   * The unmasked sum over the survivors U3 mod 2^b, centred: a word read as int32 (`w | 0`) is the signed sum in
   * [-2^(b-1), 2^(b-1)) (b = config.modulusBits; at 32 the plain sum mod 2^32). @throws SecAggError unless done.
   */
  result(): Uint32Array {
    if (this.stage !== 'done' || !this.sum) {
      throw this.abortError ?? new SecAggError('E_WRONG_STAGE', `round is at ${this.stage}, no result yet`);
    }
    return this.sum;
  }

  /** Survivors whose inputs are in the sum (U3), once masked inputs were collected. */
  get survivors(): readonly string[] {
    return this.survivorList;
  }

  /** Aborts the round (e.g. the caller's own failure). Safe to call at any stage. */
  abort(error: SecAggError): StageOutcome & { status: 'aborted' } {
    const audience = this.stage === 'advertise-keys' ? this.received : this.expected;
    this.stage = 'aborted';
    this.abortError = error;
    wipe(this.accumulator);
    this.accumulator = undefined;
    for (const shares of this.revealed.values()) wipe(...shares);
    this.revealed.clear();
    const messages = new Map<string, SecAggAbort>();
    for (const id of sortedIds(audience)) {
      messages.set(id, {
        version: SECAGG_PROTOCOL_VERSION,
        federationId: this.plan.config.federationId,
        roundId: this.plan.config.roundId,
        stage: 'abort',
        code: error.code,
        reason: error.message.slice(0, 512),
      });
    }
    return { status: 'aborted', error, messages };
  }

  private advance(
    stage: ServerStage,
    survivors: string[],
    nextDeadline: number,
    messages: Map<string, SecAggServerMessage>,
  ): StageOutcome {
    this.stage = stage;
    this.expected = new Set(survivors);
    this.received = new Set();
    this.deadline = nextDeadline;
    return { status: 'next', stage, messages };
  }

  /** Common checks: roster member, expected in this stage, not a repeat. */
  private admit(clientId: string): Uint8Array {
    const identity = this.plan.identityKeys.get(clientId);
    if (!identity) throw new SecAggError('E_UNKNOWN_CLIENT', 'sender is not in the roster');
    if (!this.expected.has(clientId)) throw new SecAggError('E_LATE', `${clientId} dropped at an earlier stage`);
    if (this.received.has(clientId)) throw new SecAggError('E_REPLAY', `second ${this.stage} message from ${clientId}`);
    return identity;
  }

  private verify(identity: Uint8Array, signed: Uint8Array, signature: Uint8Array, what: string): void {
    if (!ed25519Verify(identity, signed, signature)) {
      throw new SecAggError('E_BAD_SIGNATURE', `${what} is not signed by the sender’s identity key`);
    }
  }

  private onAdvertise(message: unknown): void {
    const msg = parseMessage(AdvertiseKeysSchema, message, 'advertise keys');
    checkRound(this.plan, msg, 'advertise keys');
    const identity = this.admit(msg.clientId);
    const { federationId, roundId } = this.plan.config;
    const signed = signedAdvertise(
      federationId,
      roundId,
      msg.clientId,
      msg.encryptionPublicKey,
      msg.maskingPublicKey,
      seedBinding(this.plan.config),
    );
    this.verify(identity, signed, msg.signature, 'advertisement');
    // refused here, the sender alone drops; passed on, its neighbours would refuse the roster (client.ts)
    checkPeerKey(msg.encryptionPublicKey, msg.clientId);
    checkPeerKey(msg.maskingPublicKey, msg.clientId);
    const hexes = [msg.encryptionPublicKey, msg.maskingPublicKey].map((k) => Buffer.from(k).toString('hex'));
    if (hexes[0] === hexes[1] || hexes.some((h) => this.advertisedKeys.has(h))) {
      throw new SecAggError('E_DUPLICATE_KEY', 'advertised public key already in use this round');
    }
    for (const h of hexes) this.advertisedKeys.add(h);
    this.advertisements.set(msg.clientId, msg);
    this.received.add(msg.clientId);
  }

  private onShareKeys(message: unknown): void {
    const msg = parseMessage(ShareKeysSchema, message, 'share keys');
    checkRound(this.plan, msg, 'share keys');
    const identity = this.admit(msg.clientId);
    const { federationId, roundId } = this.plan.config;
    this.verify(
      identity,
      signedShareKeys(federationId, roundId, msg.clientId, msg.shares),
      msg.signature,
      'share keys',
    );
    const holders = this.plan.holdersOf.get(msg.clientId)!.filter((h) => this.expected.has(h));
    const targets = msg.shares.map((s) => s.to);
    if (
      msg.shares.some((s) => s.from !== msg.clientId) ||
      targets.length !== holders.length ||
      !sortedIds(targets).every((t, i) => t === holders[i])
    ) {
      throw new SecAggError('E_BAD_MESSAGE', 'share keys must hold exactly one bundle per advertised neighbour');
    }
    for (const s of msg.shares) {
      const box = this.outbox.get(s.to) ?? [];
      box.push(s);
      this.outbox.set(s.to, box);
    }
    this.received.add(msg.clientId);
  }

  private onMaskedInput(message: unknown): void {
    const msg = parseMessage(MaskedInputSchema, message, 'masked input');
    checkRound(this.plan, msg, 'masked input');
    const identity = this.admit(msg.clientId);
    const { federationId, roundId, vectorLength } = this.plan.config;
    const bits = modulusBitsOf(this.plan.config);
    const expected = packedByteLength(bits, vectorLength);
    if (msg.maskedInput.length !== expected) {
      throw new SecAggError('E_BAD_LENGTH', `masked input has ${msg.maskedInput.length} bytes, expected ${expected}`);
    }
    this.verify(
      identity,
      signedMaskedInput(federationId, roundId, msg.clientId, msg.maskedInput),
      msg.signature,
      'masked input',
    );
    const bytes = msg.maskedInput;
    // The first input is copied (the accumulator must not alias the transport's buffer); later 32-bit ones are read
    // in place when 4-byte aligned on a little-endian host. Packed words (b < 32) are added straight from the bytes
    // (checked first; no per-input array). Summing mod 2^32 is summing mod 2^b too (2^b divides 2^32); the result
    // is reduced once, after unmasking.
    if (!this.accumulator) this.accumulator = unpackWords(bytes, bits, vectorLength);
    else if (bits < 32) addPackedWords(this.accumulator, bytes, bits);
    else {
      const words =
        bytes.byteOffset % 4 !== 0 || !LITTLE_ENDIAN
          ? bytesToWords(bytes)
          : new Uint32Array(bytes.buffer, bytes.byteOffset, vectorLength);
      const acc = this.accumulator;
      for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] + words[i]) >>> 0;
    }
    this.received.add(msg.clientId);
  }

  private onConsistency(message: unknown): void {
    const msg = parseMessage(ConsistencySignatureSchema, message, 'consistency signature');
    checkRound(this.plan, msg, 'consistency signature');
    const identity = this.admit(msg.clientId);
    const { federationId, roundId } = this.plan.config;
    this.verify(
      identity,
      signedSurvivors(federationId, roundId, this.survivorList, seedBinding(this.plan.config)),
      msg.signature,
      'consistency',
    );
    this.consistencySignatures.set(msg.clientId, msg.signature);
    this.received.add(msg.clientId);
  }

  private onUnmask(message: unknown): void {
    const msg = parseMessage(UnmaskSharesSchema, message, 'unmask shares');
    checkRound(this.plan, msg, 'unmask shares');
    const identity = this.admit(msg.clientId);
    const { federationId, roundId } = this.plan.config;
    this.verify(
      identity,
      signedUnmask(federationId, roundId, msg.clientId, msg.shares),
      msg.signature,
      'unmask shares',
    );
    const owners = new Set<string>();
    for (const s of msg.shares) {
      if (owners.has(s.owner)) throw new SecAggError('E_REPLAY', `two shares of ${s.owner}`);
      owners.add(s.owner);
      const expectedKind = this.u3.has(s.owner) ? 'self-mask' : this.u2.has(s.owner) ? 'secret-key' : undefined;
      if (s.kind !== expectedKind)
        throw new SecAggError('E_INCONSISTENT_DROPS', `unexpected ${s.kind} share of ${s.owner}`);
      if (
        !this.plan.holdersOf.get(s.owner)!.includes(msg.clientId) ||
        s.share[32] !== shareX(this.plan, s.owner, msg.clientId)
      ) {
        throw new SecAggError('E_BAD_MESSAGE', `${msg.clientId} cannot hold that share of ${s.owner}`);
      }
    }
    for (const s of msg.shares) {
      const list = this.revealed.get(s.owner) ?? [];
      list.push(s.share);
      this.revealed.set(s.owner, list);
    }
    this.received.add(msg.clientId);
  }

  /**
   * z = sum_{u in U3} y_u - sum_{u in U3} PRG(b_u) - sum_{d in U2\U3} sum_{v in N(d) ∩ U3} sign(v,d) PRG(s_{v,d}).
   * All reconstructions happen before any mask is removed, so a failure aborts with nothing partial.
   */
  private async unmask(): Promise<StageOutcome> {
    const { threshold, federationId, roundId } = this.plan.config;
    const selfMaskSeeds = new Map<string, Uint8Array>();
    const droppedKeys = new Map<string, X25519Secret>();
    const rawKeys: Uint8Array[] = [];
    try {
      for (const owner of [...this.survivorList, ...this.droppedList]) {
        const shares = this.revealed.get(owner) ?? [];
        if (shares.length < threshold) {
          throw new SecAggError('E_TOO_FEW_SURVIVORS', `${shares.length} shares of ${owner}, need ${threshold}`);
        }
        const secret = shamirCombine(shares.slice(0, threshold));
        // With a spare share, a second subset must agree: a corrupted share is caught instead of silently used.
        if (shares.length > threshold && !bytesEqual(secret, shamirCombine(shares.slice(1, threshold + 1)))) {
          throw new SecAggError('E_RECONSTRUCTION_FAILED', `shares of ${owner} are inconsistent`);
        }
        if (this.u3.has(owner)) selfMaskSeeds.set(owner, secret);
        else {
          rawKeys.push(secret);
          const key = new X25519Secret(secret);
          if (!bytesEqual(key.publicKey, this.advertisements.get(owner)!.maskingPublicKey)) {
            throw new SecAggError('E_RECONSTRUCTION_FAILED', `rebuilt key of ${owner} does not match its public key`);
          }
          droppedKeys.set(owner, key);
        }
      }
    } catch (error) {
      wipe(...selfMaskSeeds.values(), ...rawKeys);
      if (error instanceof SecAggError) return this.abort(error);
      throw error;
    }
    const expander = this.expander ?? (await defaultMaskExpander());
    const acc = this.accumulator!;
    const jobs: MaskJob[] = [...selfMaskSeeds.values()].map((seed) => ({ seed: seed.slice(), sign: -1 as const }));
    for (const [d, secretKey] of droppedKeys) {
      for (const v of this.plan.neighboursOf.get(d)!) {
        if (!this.u3.has(v)) continue;
        const shared = secretKey.agree(this.advertisements.get(v)!.maskingPublicKey);
        // y_v carried pairSign(v, d) * PRG(s_{v,d}); remove it
        jobs.push({
          seed: derivePairKey(shared, 'pairwise-mask', federationId, roundId, d, v),
          sign: -pairSign(v, d) as 1 | -1,
        });
        wipe(shared);
      }
    }
    await applyMasks(acc, jobs, expander); // wipes the seeds
    centreModulo(acc, modulusBitsOf(this.plan.config)); // the sum mod 2^b, signed (packing.ts)
    wipe(...selfMaskSeeds.values(), ...rawKeys);
    this.sum = acc;
    this.accumulator = undefined;
    this.stage = 'done';
    return { status: 'done', sum: acc, survivors: this.survivorList };
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const STAGE_MESSAGE: Record<Exclude<ServerStage, 'done' | 'aborted'>, string> = {
  'advertise-keys': 'advertise-keys',
  'share-keys': 'share-keys',
  'masked-input': 'masked-input',
  consistency: 'consistency-signature',
  unmask: 'unmask-shares',
};
