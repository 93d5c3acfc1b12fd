/**
 * What each message's signature covers, and the plaintext of an encrypted share bundle. Client and server build
 * exactly the same transcripts (transcript.ts: domain tag + length-prefixed fields).
 */
import { createHash } from 'node:crypto';
import type { EncryptedShare, RevealedShare } from '@concord/protocol';
import { SecAggError } from './errors.js';
import { transcript } from './transcript.js';

/** `binding` = seedBinding(config): the graph seed and the seed-flip list hash (config.ts). */
export const signedAdvertise = (
  fed: string,
  round: string,
  clientId: string,
  encPk: Uint8Array,
  maskPk: Uint8Array,
  binding: readonly Uint8Array[],
) => transcript('concord/secagg/v1/advertise-keys', [fed, round, clientId, encPk, maskPk, ...binding]);

export const signedShareKeys = (fed: string, round: string, clientId: string, shares: readonly EncryptedShare[]) =>
  transcript('concord/secagg/v1/share-keys', [
    fed,
    round,
    clientId,
    ...shares.flatMap((s) => [s.from, s.to, s.nonce, s.ciphertext]),
  ]);

/** The 4*d-byte vector is signed through its SHA-256 digest (one hash pass instead of Ed25519's two SHA-512 passes). */
export const signedMaskedInput = (fed: string, round: string, clientId: string, masked: Uint8Array) =>
  transcript('concord/secagg/v1/masked-input', [
    fed,
    round,
    clientId,
    new Uint8Array(createHash('sha256').update(masked).digest()),
  ]);

/**
 * Bonawitz et al. §4 ConsistencyCheck: each survivor signs the survivor set U3 (sorted ids), with the graph seed
 * and the seed-flip list hash (`binding` = seedBinding(config)) first.
 */
export const signedSurvivors = (
  fed: string,
  round: string,
  survivors: readonly string[],
  binding: readonly Uint8Array[],
) => transcript('concord/secagg/v1/consistency', [fed, round, ...binding, ...survivors]);

export const signedUnmask = (fed: string, round: string, clientId: string, shares: readonly RevealedShare[]) =>
  transcript('concord/secagg/v1/unmask-shares', [
    fed,
    round,
    clientId,
    ...shares.flatMap((s) => [s.owner, s.kind, s.share]),
  ]);

/** Plaintext of the bundle `owner` sends `holder`: both ids (so the server cannot reflect or reroute it), then shares. */
export function encodeShareBundle(
  owner: string,
  holder: string,
  selfMaskShare: Uint8Array,
  secretKeyShare: Uint8Array,
) {
  return transcript('concord/secagg/v1/share-bundle', [owner, holder, selfMaskShare, secretKeyShare]);
}

export function decodeShareBundle(plaintext: Uint8Array): {
  owner: string;
  holder: string;
  selfMaskShare: Uint8Array;
  secretKeyShare: Uint8Array;
} {
  const fields = parseTranscript(plaintext);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  if (fields.length !== 5 || decoder.decode(fields[0]) !== 'concord/secagg/v1/share-bundle') {
    throw new SecAggError('E_BAD_MESSAGE', 'share bundle has the wrong layout');
  }
  return {
    owner: decoder.decode(fields[1]),
    holder: decoder.decode(fields[2]),
    selfMaskShare: fields[3],
    secretKeyShare: fields[4],
  };
}

function parseTranscript(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) throw new SecAggError('E_BAD_MESSAGE', 'truncated share bundle');
    const len = view.getUint32(offset, true);
    if (offset + 4 + len > bytes.length) throw new SecAggError('E_BAD_MESSAGE', 'truncated share bundle');
    out.push(bytes.slice(offset + 4, offset + 4 + len));
    offset += 4 + len;
  }
  return out;
}
