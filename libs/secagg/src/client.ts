/**
 * The client side of SecAgg+ (Bell et al. CCS'20, Algorithm "SecAgg+" on top of Bonawitz et al. CCS'17 §4, Fig. 4,
 * active-adversary variant with the consistency check). One instance per round; each stage method checks the
 * server's message, advances the state and returns the message to send. Transport-free and deterministic given
 * `randomBytes`.
 *
 * Stage methods throw SecAggError (with a `code`) when the server's message is malformed, from another round,
 * inconsistent or badly signed; the client then stays in an aborted state and never answers again in this round.
 */
import {
  ConsistencyRequestSchema,
  KeyRosterSchema,
  SECAGG_PROTOCOL_VERSION,
  ShareRouteSchema,
  UnmaskRequestSchema,
  type AdvertiseKeys,
  type ConsistencySignature,
  type EncryptedShare,
  type MaskedInput,
  type RevealedShare,
  type ShareKeys,
  type UnmaskShares,
} from '@concord/protocol';
import nacl from 'tweetnacl';
import { checkIdSet, checkRound, parseMessage } from './checks.js';
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
import { drawRandom, requireFunction, requireString, type RandomBytes } from './guards.js';
import { derivePairKey } from './kdf.js';
import { Ed25519Signer, X25519Secret, checkPeerKey, ed25519Verify } from './keys.js';
import {
  decodeShareBundle,
  encodeShareBundle,
  signedAdvertise,
  signedMaskedInput,
  signedShareKeys,
  signedSurvivors,
  signedUnmask,
} from './messages.js';
import { packWords } from './packing.js';
import { applyMasks, defaultMaskExpander, type MaskExpander, type MaskJob } from './prg.js';
import { shamirSplit } from './shamir.js';
import { bytesEqual, wipe } from './transcript.js';

export interface SecAggClientOptions {
  config: SecAggConfig;
  clientId: string;
  /** Enrolled Ed25519 identity: 32-byte seed or tweetnacl 64-byte secret key. Must match the roster's public key. */
  identitySecretKey: Uint8Array;
  /** Uniform random bytes (a CSPRNG in production: crypto.randomBytes). */
  randomBytes: RandomBytes;
  /** Mask PRG; default: the native addon's maskAdd when built, else node:crypto ChaCha20 (same output). */
  maskExpander?: MaskExpander;
}

type ClientStage = 'advertise-keys' | 'share-keys' | 'masked-input' | 'consistency' | 'unmask' | 'done' | 'aborted';

interface PeerKeys {
  encryptionPublicKey: Uint8Array;
  maskingPublicKey: Uint8Array;
}

interface HeldShares {
  selfMaskShare: Uint8Array;
  secretKeyShare: Uint8Array;
}

export class SecAggClient {
  readonly clientId: string;
  readonly plan: RoundPlan;
  private stage: ClientStage = 'advertise-keys';
  private readonly signer: Ed25519Signer;
  private readonly randomBytes: RandomBytes;
  private readonly expander?: MaskExpander;
  private encryptionSecretKey?: Uint8Array;
  private maskingSecretKey?: Uint8Array;
  private encryptionKey?: X25519Secret;
  private maskingKey?: X25519Secret;
  private selfMaskSeed?: Uint8Array;
  private ownAdvertisement?: AdvertiseKeys;
  private peers = new Map<string, PeerKeys>();
  /** Shares this client holds, by owner: only owners whose bundle reached us (their U2 membership, as we saw it). */
  private held = new Map<string, HeldShares>();
  private signedSurvivorList?: readonly string[];

  constructor(options: SecAggClientOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    this.plan = planRound(options.config);
    this.clientId = requireString(options.clientId, 'options.clientId');
    const enrolled = this.plan.identityKeys.get(this.clientId);
    if (!enrolled) throw new RangeError(`options.clientId ${this.clientId} is not in the roster`);
    this.signer = new Ed25519Signer(options.identitySecretKey);
    if (!bytesEqual(this.signer.publicKey, enrolled)) {
      throw new RangeError('options.identitySecretKey does not match the roster public key of options.clientId');
    }
    this.randomBytes = requireFunction<RandomBytes>(options.randomBytes, 'options.randomBytes');
    if (options.maskExpander !== undefined && typeof options.maskExpander?.maskAdd !== 'function') {
      throw new TypeError('options.maskExpander must have a maskAdd function');
    }
    this.expander = options.maskExpander;
  }

  /** Current stage (what the client expects to do next), 'done' or 'aborted'. */
  get currentStage(): ClientStage {
    return this.stage;
  }

  /** Stage 0: fresh X25519 key pairs for this round, signed with the identity key. */
  advertiseKeys(): AdvertiseKeys {
    this.enter('advertise-keys');
    return this.guard(() => {
      const { federationId, roundId } = this.plan.config;
      this.encryptionSecretKey = drawRandom(this.randomBytes, 32);
      this.maskingSecretKey = drawRandom(this.randomBytes, 32);
      this.encryptionKey = new X25519Secret(this.encryptionSecretKey);
      this.maskingKey = new X25519Secret(this.maskingSecretKey);
      const encryptionPublicKey = this.encryptionKey.publicKey;
      const maskingPublicKey = this.maskingKey.publicKey;
      const signature = this.signer.sign(
        signedAdvertise(
          federationId,
          roundId,
          this.clientId,
          encryptionPublicKey,
          maskingPublicKey,
          seedBinding(this.plan.config),
        ),
      );
      this.ownAdvertisement = {
        version: SECAGG_PROTOCOL_VERSION,
        federationId,
        roundId,
        clientId: this.clientId,
        stage: 'advertise-keys',
        encryptionPublicKey,
        maskingPublicKey,
        signature,
      };
      this.stage = 'share-keys';
      return this.ownAdvertisement;
    });
  }

  /**
   * Stage 1: the roster must be exactly this client's neighbourhood (its graph neighbours and itself, recomputed
   * from the graph seed): each listed once, either by its advertisement or as absent. Verify every advertisement
   * and its keys, then Shamir-share the self-mask seed b_u and the masking secret key s_u^SK (t-of-(k+1)) to the
   * neighbours that advertised, each bundle encrypted for its holder.
   */
  shareKeys(keyRoster: unknown): ShareKeys {
    this.enter('share-keys');
    return this.guard(() => {
      const msg = parseMessage(KeyRosterSchema, keyRoster, 'key roster');
      checkRound(this.plan, msg, 'key roster');
      const { federationId, roundId, threshold } = this.plan.config;
      // Only neighbours' keys are ever used (SecAgg+), and only they are sent: O(k) entries and signatures.
      const myHolders = new Set(this.plan.holdersOf.get(this.clientId)!);
      const advertised = new Set<string>();
      const seenKeys = new Set<string>();
      for (const ad of msg.advertisements) {
        checkRound(this.plan, ad, 'advertisement');
        if (!myHolders.has(ad.clientId)) {
          throw new SecAggError('E_NOT_NEIGHBOUR', `the roster carries ${ad.clientId}, who is not a neighbour`);
        }
        if (advertised.has(ad.clientId)) throw new SecAggError('E_REPLAY', `two advertisements from ${ad.clientId}`);
        advertised.add(ad.clientId);
        const signed = signedAdvertise(
          federationId,
          roundId,
          ad.clientId,
          ad.encryptionPublicKey,
          ad.maskingPublicKey,
          seedBinding(this.plan.config),
        );
        if (!ed25519Verify(this.plan.identityKeys.get(ad.clientId)!, signed, ad.signature)) {
          throw new SecAggError('E_BAD_SIGNATURE', `advertisement of ${ad.clientId} is not signed by its identity`);
        }
        for (const key of [ad.encryptionPublicKey, ad.maskingPublicKey]) {
          checkPeerKey(key, ad.clientId);
          const hex = Buffer.from(key).toString('hex');
          if (seenKeys.has(hex)) throw new SecAggError('E_DUPLICATE_KEY', 'two advertised public keys are equal');
          seenKeys.add(hex);
        }
        this.peers.set(ad.clientId, {
          encryptionPublicKey: ad.encryptionPublicKey,
          maskingPublicKey: ad.maskingPublicKey,
        });
      }
      for (const id of checkIdSet(this.plan, msg.absent, 'absent neighbours')) {
        if (!myHolders.has(id)) throw new SecAggError('E_NOT_NEIGHBOUR', `${id} is listed absent but no neighbour`);
        if (advertised.has(id)) throw new SecAggError('E_BAD_MESSAGE', `${id} is listed both advertised and absent`);
      }
      if (advertised.size + msg.absent.length !== myHolders.size) {
        const missing = [...myHolders].find((h) => !advertised.has(h) && !msg.absent.includes(h));
        throw new SecAggError('E_NEIGHBOUR_MISSING', `the roster leaves out the neighbour ${missing}`);
      }
      const own = this.peers.get(this.clientId);
      if (
        !own ||
        !bytesEqual(own.encryptionPublicKey, this.ownAdvertisement!.encryptionPublicKey) ||
        !bytesEqual(own.maskingPublicKey, this.ownAdvertisement!.maskingPublicKey)
      ) {
        throw new SecAggError('E_BAD_MESSAGE', 'the roster does not carry this client’s own advertisement');
      }
      const holders = this.plan.holdersOf.get(this.clientId)!.filter((h) => this.peers.has(h));
      if (holders.length < threshold) {
        throw new SecAggError('E_TOO_FEW_SURVIVORS', `${holders.length} share holders advertised, need ${threshold}`);
      }
      this.selfMaskSeed = drawRandom(this.randomBytes, 32);
      const xs = holders.map((h) => shareX(this.plan, this.clientId, h));
      const selfMaskShares = shamirSplit(this.selfMaskSeed, xs, threshold, this.randomBytes);
      const secretKeyShares = shamirSplit(this.maskingSecretKey!, xs, threshold, this.randomBytes);
      const shares: EncryptedShare[] = holders.map((holder, i) => {
        const key = this.shareKey(holder);
        const nonce = drawRandom(this.randomBytes, 24);
        const plaintext = encodeShareBundle(this.clientId, holder, selfMaskShares[i], secretKeyShares[i]);
        const ciphertext = nacl.secretbox(plaintext, nonce, key);
        wipe(key, plaintext, selfMaskShares[i], secretKeyShares[i]);
        return { from: this.clientId, to: holder, nonce, ciphertext };
      });
      this.stage = 'masked-input';
      return {
        version: SECAGG_PROTOCOL_VERSION,
        federationId,
        roundId,
        clientId: this.clientId,
        stage: 'share-keys',
        shares,
        signature: this.signer.sign(signedShareKeys(federationId, roundId, this.clientId, shares)),
      };
    });
  }

  /**
   * Stage 2: decrypt the bundles routed to us (their senders form our view of U2), then send
   * y_u = x_u + PRG(b_u) + sum over neighbours v in U2 of ±PRG(s_{u,v}) mod 2^b (Bonawitz et al. §4, round 2;
   * b = config.modulusBits, 32 when absent), packed at b bits a word.
   * @param input the encoded update, `config.vectorLength` words (encoding.ts); not modified.
   */
  async maskedInput(shareRoute: unknown, input: Uint32Array): Promise<MaskedInput> {
    this.enter('masked-input');
    if (!(input instanceof Uint32Array)) {
      this.stage = 'aborted';
      throw new TypeError('input must be a Uint32Array');
    }
    return this.guardAsync(async () => {
      if (input.length !== this.plan.config.vectorLength) {
        throw new SecAggError(
          'E_BAD_LENGTH',
          `input has ${input.length} words, expected ${this.plan.config.vectorLength}`,
        );
      }
      const msg = parseMessage(ShareRouteSchema, shareRoute, 'share route');
      checkRound(this.plan, msg, 'share route');
      if (msg.to !== this.clientId) throw new SecAggError('E_BAD_MESSAGE', 'share route addressed to another client');
      const { federationId, roundId, threshold } = this.plan.config;
      const owners = this.plan.holdersOf.get(this.clientId)!; // the graph is symmetric: we hold shares of these
      for (const s of msg.shares) {
        if (s.to !== this.clientId) throw new SecAggError('E_BAD_MESSAGE', 'routed share addressed to another client');
        if (!owners.includes(s.from) || !this.peers.has(s.from)) {
          throw new SecAggError('E_UNKNOWN_CLIENT', `share from ${s.from}, who is not an advertised neighbour`);
        }
        if (this.held.has(s.from)) throw new SecAggError('E_REPLAY', `two share bundles from ${s.from}`);
        const key = this.shareKey(s.from);
        const plaintext = nacl.secretbox.open(s.ciphertext, s.nonce, key);
        wipe(key);
        if (!plaintext) throw new SecAggError('E_DECRYPT_FAILED', `share bundle from ${s.from} fails authentication`);
        const bundle = decodeShareBundle(plaintext);
        wipe(plaintext);
        const x = shareX(this.plan, s.from, this.clientId);
        if (
          bundle.owner !== s.from ||
          bundle.holder !== this.clientId ||
          bundle.selfMaskShare.length !== 33 ||
          bundle.secretKeyShare.length !== 33 ||
          bundle.selfMaskShare[32] !== x ||
          bundle.secretKeyShare[32] !== x
        ) {
          throw new SecAggError('E_BAD_MESSAGE', `share bundle from ${s.from} is for another pair or malformed`);
        }
        this.held.set(s.from, { selfMaskShare: bundle.selfMaskShare, secretKeyShare: bundle.secretKeyShare });
      }
      if (!this.held.has(this.clientId)) {
        throw new SecAggError('E_INCONSISTENT_DROPS', 'the route lacks this client’s own bundle');
      }
      if (this.held.size < threshold) {
        throw new SecAggError('E_TOO_FEW_SURVIVORS', `${this.held.size} neighbours shared keys, need ${threshold}`);
      }
      const expander = this.expander ?? (await defaultMaskExpander());
      const masked = input.slice();
      const jobs: MaskJob[] = [{ seed: this.selfMaskSeed!.slice(), sign: 1 }];
      for (const v of this.held.keys()) {
        if (v !== this.clientId) jobs.push({ seed: this.maskSeed(v), sign: pairSign(this.clientId, v) });
      }
      await applyMasks(masked, jobs, expander); // wipes the pair seeds
      // mod 2^b: the low b bits of y_u (every mask's low b bits are uniform mod 2^b), packed (packing.ts)
      const bytes = packWords(masked, modulusBitsOf(this.plan.config));
      this.stage = 'consistency';
      return {
        version: SECAGG_PROTOCOL_VERSION,
        federationId,
        roundId,
        clientId: this.clientId,
        stage: 'masked-input',
        maskedInput: bytes,
        signature: this.signer.sign(signedMaskedInput(federationId, roundId, this.clientId, bytes)),
      };
    });
  }

  /** Stage 3: sign the survivor set U3 after checking it is plausible from where we stand. */
  consistencySignature(consistencyRequest: unknown): ConsistencySignature {
    this.enter('consistency');
    return this.guard(() => {
      const msg = parseMessage(ConsistencyRequestSchema, consistencyRequest, 'consistency request');
      checkRound(this.plan, msg, 'consistency request');
      const { federationId, roundId, threshold } = this.plan.config;
      const survivors = checkIdSet(this.plan, msg.survivors, 'survivors');
      if (!survivors.has(this.clientId)) {
        throw new SecAggError('E_INCONSISTENT_DROPS', 'the survivor set omits this client, which sent its input');
      }
      if (survivors.size < threshold) {
        throw new SecAggError('E_TOO_FEW_SURVIVORS', `${survivors.size} survivors, threshold is ${threshold}`);
      }
      for (const v of this.plan.holdersOf.get(this.clientId)!) {
        if (survivors.has(v) && !this.held.has(v)) {
          throw new SecAggError('E_INCONSISTENT_DROPS', `${v} is listed as a survivor but never shared its keys`);
        }
      }
      this.signedSurvivorList = msg.survivors;
      this.stage = 'unmask';
      return {
        version: SECAGG_PROTOCOL_VERSION,
        federationId,
        roundId,
        clientId: this.clientId,
        stage: 'consistency-signature',
        signature: this.signer.sign(
          signedSurvivors(federationId, roundId, msg.survivors, seedBinding(this.plan.config)),
        ),
      };
    });
  }

  /**
   * Stage 4: after verifying at least t signatures of its neighbourhood on the very survivor set we signed, reveal
   * for each owner whose shares we hold exactly one share: of b_u if u survived, of s_u^SK if u dropped. The
   * request carries only this client's neighbourhood (the owners of the shares it holds, and their signatures):
   * a dropped client or signer outside it is refused. Dropped clients must not be in the signed survivor set, so
   * the server never gets both kinds of share of one client from honest clients.
   */
  unmaskShares(unmaskRequest: unknown): UnmaskShares {
    this.enter('unmask');
    return this.guard(() => {
      const msg = parseMessage(UnmaskRequestSchema, unmaskRequest, 'unmask request');
      checkRound(this.plan, msg, 'unmask request');
      const { federationId, roundId, threshold } = this.plan.config;
      const signed = this.signedSurvivorList!;
      const survivors = new Set(signed);
      const myHolders = new Set(this.plan.holdersOf.get(this.clientId)!);
      const dropped = checkIdSet(this.plan, msg.dropped, 'dropped');
      for (const id of dropped) {
        if (!myHolders.has(id)) throw new SecAggError('E_NOT_NEIGHBOUR', `${id} is listed dropped but no neighbour`);
        if (survivors.has(id)) throw new SecAggError('E_INCONSISTENT_DROPS', `${id} is both dropped and a survivor`);
      }
      const transcript = signedSurvivors(federationId, roundId, signed, seedBinding(this.plan.config));
      // t valid signatures of the neighbourhood on the set we signed suffice (Bonawitz et al. §4: "at least t
      // signatures"; Bell et al. restrict them to N(u)); we stop verifying there, but any invalid signature before
      // that point is a protocol violation.
      const signers = new Set<string>();
      const named = new Set<string>();
      for (const { clientId, signature } of msg.signatures) {
        if (named.has(clientId)) throw new SecAggError('E_REPLAY', `two consistency signatures from ${clientId}`);
        if (!myHolders.has(clientId)) {
          throw new SecAggError('E_NOT_NEIGHBOUR', `consistency signature of ${clientId}, who is not a neighbour`);
        }
        if (!survivors.has(clientId))
          throw new SecAggError('E_INCONSISTENT_DROPS', `${clientId} signed but is no survivor`);
        named.add(clientId);
        if (signers.size >= threshold) continue;
        if (!ed25519Verify(this.plan.identityKeys.get(clientId)!, transcript, signature)) {
          throw new SecAggError('E_BAD_SIGNATURE', `consistency signature of ${clientId} does not verify`);
        }
        signers.add(clientId);
      }
      if (signers.size < threshold) {
        throw new SecAggError('E_TOO_FEW_SURVIVORS', `${signers.size} valid consistency signatures, need ${threshold}`);
      }
      const shares: RevealedShare[] = [];
      for (const [owner, held] of [...this.held.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        if (survivors.has(owner)) shares.push({ owner, kind: 'self-mask', share: held.selfMaskShare });
        else if (dropped.has(owner)) shares.push({ owner, kind: 'secret-key', share: held.secretKeyShare });
        else throw new SecAggError('E_INCONSISTENT_DROPS', `${owner} shared keys but is neither survivor nor dropped`);
      }
      const reply: UnmaskShares = {
        version: SECAGG_PROTOCOL_VERSION,
        federationId,
        roundId,
        clientId: this.clientId,
        stage: 'unmask-shares',
        shares: shares.map((s) => ({ ...s, share: s.share.slice() })),
        signature: this.signer.sign(signedUnmask(federationId, roundId, this.clientId, shares)),
      };
      this.forgetSecrets();
      this.stage = 'done';
      return reply;
    });
  }

  /** Ends the round on the client: wipes every secret. Idempotent. */
  abort(): void {
    this.forgetSecrets();
    if (this.stage !== 'done') this.stage = 'aborted';
  }

  private enter(expected: ClientStage): void {
    if (this.stage !== expected) {
      throw new SecAggError(
        this.stage === 'aborted' ? 'E_ABORTED' : 'E_WRONG_STAGE',
        `client is at stage ${this.stage}, not ${expected}`,
      );
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

  private async guardAsync<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      this.abort();
      throw error;
    }
  }

  private shareKey(peer: string): Uint8Array {
    const secret = this.encryptionKey!.agree(this.peers.get(peer)!.encryptionPublicKey);
    const key = derivePairKey(
      secret,
      'share-encryption',
      this.plan.config.federationId,
      this.plan.config.roundId,
      this.clientId,
      peer,
    );
    wipe(secret);
    return key;
  }

  private maskSeed(peer: string): Uint8Array {
    const secret = this.maskingKey!.agree(this.peers.get(peer)!.maskingPublicKey);
    const seed = derivePairKey(
      secret,
      'pairwise-mask',
      this.plan.config.federationId,
      this.plan.config.roundId,
      this.clientId,
      peer,
    );
    wipe(secret);
    return seed;
  }

  private forgetSecrets(): void {
    wipe(this.encryptionSecretKey, this.maskingSecretKey, this.selfMaskSeed);
    this.encryptionKey = this.maskingKey = undefined;
    for (const h of this.held.values()) wipe(h.selfMaskShare, h.secretKeyShare);
    this.held.clear();
  }
}
