/**
 * Wire messages of Concord's secure aggregation (SecAgg+, Bell et al. CCS'20, on top of Bonawitz et al. CCS'17 §4).
 *
 * Every message carries the protocol version, the federation id and the round id, so a message from another round
 * or federation is recognisable before any cryptography runs. Binary fields are `Uint8Array` (socket.io carries them
 * as binary; Node's `Buffer` is a `Uint8Array` and is accepted). Schemas bound every length; checks that need the
 * round's configuration (vector length, roster membership, signatures) are done by `@concord/secagg`.
 *
 * Stage order (server -> client messages in brackets):
 *   [SeedCommitRequest] -> S1 SeedCommit -> [SeedCommitments] -> S2 SeedReveal -> [SeedReveals]
 *   -> 0 AdvertiseKeys -> [KeyRoster] -> 1 ShareKeys -> [ShareRoute] -> 2 MaskedInput -> [ConsistencyRequest]
 *   -> 3 ConsistencySignature -> [UnmaskRequest] -> 4 UnmaskShares ; or [Abort] at any stage.
 */
import { z } from 'zod';

/**
 * 2: the key roster and the unmask request carry only the receiving client's SecAgg+ neighbourhood (its neighbours
 * in the round's graph and itself), as Bell et al. need, instead of every client's keys and signatures.
 */
export const SECAGG_PROTOCOL_VERSION = 'concord-secagg/2';

/** Upper bounds that keep a hostile peer from making us allocate without limit. */
export const SECAGG_LIMITS = {
  maxClients: 10_000,
  maxIdLength: 128,
  /** 2^26 uint32 words = 256 MiB: far above any model we ship, far below what would exhaust memory. */
  maxVectorWords: 1 << 26,
  maxCiphertextBytes: 1024,
} as const;

const bytes = (length: number) =>
  z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length === length, {
    message: `expected a Uint8Array of ${length} bytes`,
  });
const boundedBytes = (max: number) =>
  z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length <= max, {
    message: `expected a Uint8Array of at most ${max} bytes`,
  });

export const SecAggIdSchema = z.string().min(1).max(SECAGG_LIMITS.maxIdLength);
const idList = z.array(SecAggIdSchema).max(SECAGG_LIMITS.maxClients);

const header = {
  version: z.literal(SECAGG_PROTOCOL_VERSION),
  federationId: SecAggIdSchema,
  roundId: SecAggIdSchema,
};
const clientHeader = { ...header, clientId: SecAggIdSchema };

/**
 * Stage S1, client -> server: commitment c_u = SHA-256(tag, federation, round, client, r_u) to a fresh 32-byte
 * value r_u, signed with the enrolled identity. The graph seed is derived from every committed r_u (the coin flip
 * that keeps the neighbour graph out of the aggregator's hands; @concord/secagg seed-flip.ts).
 */
export const SeedCommitSchema = z.object({
  ...clientHeader,
  stage: z.literal('seed-commit'),
  commitment: bytes(32),
  signature: bytes(64),
});
export type SeedCommit = z.infer<typeof SeedCommitSchema>;

/** Server -> every committer: all commitments received in time (each member checks every signature). */
export const SeedCommitmentsSchema = z.object({
  ...header,
  stage: z.literal('seed-commitments'),
  commitments: z.array(SeedCommitSchema).max(SECAGG_LIMITS.maxClients),
});
export type SeedCommitments = z.infer<typeof SeedCommitmentsSchema>;

/** Stage S2, client -> server: the committed value (checked by everyone against its signed commitment). */
export const SeedRevealSchema = z.object({
  ...clientHeader,
  stage: z.literal('seed-reveal'),
  value: bytes(32),
});
export type SeedReveal = z.infer<typeof SeedRevealSchema>;

/** Server -> every committer: every reveal; a missing or wrong one aborts the round. Opens stage 0. */
export const SeedRevealsSchema = z.object({
  ...header,
  stage: z.literal('seed-reveals'),
  reveals: z.array(SeedRevealSchema).max(SECAGG_LIMITS.maxClients),
});
export type SeedReveals = z.infer<typeof SeedRevealsSchema>;

/** Stage 0, client -> server: fresh per-round X25519 public keys, signed with the enrolled Ed25519 identity. */
export const AdvertiseKeysSchema = z.object({
  ...clientHeader,
  stage: z.literal('advertise-keys'),
  /** X25519 public key used to derive the key that encrypts Shamir shares (c_u^PK in Bonawitz et al.). */
  encryptionPublicKey: bytes(32),
  /** X25519 public key used to derive pairwise mask seeds (s_u^PK). */
  maskingPublicKey: bytes(32),
  signature: bytes(64),
});
export type AdvertiseKeys = z.infer<typeof AdvertiseKeysSchema>;

/**
 * Server -> each client u that advertised: its neighbourhood's keys only (SecAgg+, Bell et al. CCS'20: u shares
 * with, and masks against, its graph neighbours N(u) and nobody else). `advertisements` are those of N(u) and u that
 * made the deadline, `absent` the neighbours that did not (both sorted by id); together they are exactly N(u) and u,
 * which u recomputes from the graph seed and checks, so a neighbour is never silently left out.
 */
export const KeyRosterSchema = z.object({
  ...header,
  stage: z.literal('key-roster'),
  advertisements: z.array(AdvertiseKeysSchema).max(SECAGG_LIMITS.maxClients),
  absent: idList,
});
export type KeyRoster = z.infer<typeof KeyRosterSchema>;

export const EncryptedShareSchema = z.object({
  /** Sender in ShareKeys, recipient's view in ShareRoute: the other end of the pair. */
  from: SecAggIdSchema,
  to: SecAggIdSchema,
  nonce: bytes(24),
  /** nacl.secretbox ciphertext of the pair's Shamir shares. */
  ciphertext: boundedBytes(SECAGG_LIMITS.maxCiphertextBytes),
});
export type EncryptedShare = z.infer<typeof EncryptedShareSchema>;

/** Stage 1, client -> server: one encrypted share bundle per neighbour (and one to itself). */
export const ShareKeysSchema = z.object({
  ...clientHeader,
  stage: z.literal('share-keys'),
  shares: z.array(EncryptedShareSchema).max(SECAGG_LIMITS.maxClients),
  signature: bytes(64),
});
export type ShareKeys = z.infer<typeof ShareKeysSchema>;

/** Server -> one client: the encrypted bundles addressed to it, from every client that shared in time. */
export const ShareRouteSchema = z.object({
  ...header,
  stage: z.literal('share-route'),
  to: SecAggIdSchema,
  shares: z.array(EncryptedShareSchema).max(SECAGG_LIMITS.maxClients),
});
export type ShareRoute = z.infer<typeof ShareRouteSchema>;

/** Stage 2, client -> server: the masked vector, little-endian uint32 words. */
export const MaskedInputSchema = z.object({
  ...clientHeader,
  stage: z.literal('masked-input'),
  maskedInput: boundedBytes(4 * SECAGG_LIMITS.maxVectorWords),
  signature: bytes(64),
});
export type MaskedInput = z.infer<typeof MaskedInputSchema>;

/** Server -> survivors of stage 2: the survivor set U3 every client must sign (Bonawitz et al. §4, ConsistencyCheck). */
export const ConsistencyRequestSchema = z.object({
  ...header,
  stage: z.literal('consistency-request'),
  survivors: idList,
});
export type ConsistencyRequest = z.infer<typeof ConsistencyRequestSchema>;

/** Stage 3, client -> server: the client's Ed25519 signature over (federation, round, survivor set). */
export const ConsistencySignatureSchema = z.object({
  ...clientHeader,
  stage: z.literal('consistency-signature'),
  signature: bytes(64),
});
export type ConsistencySignature = z.infer<typeof ConsistencySignatureSchema>;

export const SignedBySchema = z.object({ clientId: SecAggIdSchema, signature: bytes(64) });

/**
 * Server -> each signer u of stage 3, restricted to u's neighbourhood N(u) and u (the only owners whose shares u
 * holds): the consistency signatures of its surviving neighbours (over the survivor set u already signed, which is
 * therefore not sent again) and the neighbours the server declares dropped.
 */
export const UnmaskRequestSchema = z.object({
  ...header,
  stage: z.literal('unmask-request'),
  dropped: idList,
  signatures: z.array(SignedBySchema).max(SECAGG_LIMITS.maxClients),
});
export type UnmaskRequest = z.infer<typeof UnmaskRequestSchema>;

export const RevealedShareSchema = z.object({
  owner: SecAggIdSchema,
  /** 'self-mask': share of b_u (owner survived); 'secret-key': share of s_u^SK (owner dropped). Never both. */
  kind: z.enum(['self-mask', 'secret-key']),
  /** Shamir share over GF(2^8), shamir-secret-sharing layout: 32 bytes of y then the x byte. */
  share: bytes(33),
});
export type RevealedShare = z.infer<typeof RevealedShareSchema>;

/** Stage 4, client -> server: the shares that let the server remove masks. */
export const UnmaskSharesSchema = z.object({
  ...clientHeader,
  stage: z.literal('unmask-shares'),
  shares: z.array(RevealedShareSchema).max(SECAGG_LIMITS.maxClients),
  signature: bytes(64),
});
export type UnmaskShares = z.infer<typeof UnmaskSharesSchema>;

/** Server -> everyone still connected: the round is over without a result. Carries only a code, never secrets. */
export const SecAggAbortSchema = z.object({
  ...header,
  stage: z.literal('abort'),
  code: z.string().max(64),
  reason: z.string().max(512),
});
export type SecAggAbort = z.infer<typeof SecAggAbortSchema>;

export const SecAggClientMessageSchema = z.discriminatedUnion('stage', [
  SeedCommitSchema,
  SeedRevealSchema,
  AdvertiseKeysSchema,
  ShareKeysSchema,
  MaskedInputSchema,
  ConsistencySignatureSchema,
  UnmaskSharesSchema,
]);
export type SecAggClientMessage = z.infer<typeof SecAggClientMessageSchema>;

export const SecAggServerMessageSchema = z.discriminatedUnion('stage', [
  SeedCommitmentsSchema,
  SeedRevealsSchema,
  KeyRosterSchema,
  ShareRouteSchema,
  ConsistencyRequestSchema,
  UnmaskRequestSchema,
  SecAggAbortSchema,
]);
export type SecAggServerMessage = z.infer<typeof SecAggServerMessageSchema>;
