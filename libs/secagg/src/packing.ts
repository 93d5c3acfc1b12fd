/**
 * Tight packing of b-bit words (issue 20): a masked input mod 2^b travels as ceil(b d / 8) bytes instead of 4d.
 * Layout: one little-endian bit stream, word i in bits [b i, b (i + 1)), least significant bit first; the last
 * byte's unused high bits are zero. At b = 32 this is exactly the little-endian uint32 layout of before, so
 * 32-bit rounds (and the known-answer tests) are byte-for-byte unchanged.
 *
 * Arithmetic: the bit buffer is a float64 holding fewer than 40 significant bits (b <= 32 plus < 8 pending), so
 * every step is exact; `x & 255` on it takes the value mod 2^32 first (ToInt32), which keeps the low byte.
 */
import { packedByteLength } from '@concord/protocol';
import { SecAggError } from './errors.js';
import { requireInteger } from './guards.js';
import { bytesToWords, wordsToBytes } from './transcript.js';

/** The low `bits` bits of every word, packed (a view of `words` at b = 32, else a fresh array). */
export function packWords(words: Uint32Array, bits: number): Uint8Array {
  if (!(words instanceof Uint32Array)) throw new TypeError('words must be a Uint32Array');
  requireInteger(bits, 'bits', 1, 32);
  if (bits === 32) return wordsToBytes(words);
  const out = new Uint8Array(packedByteLength(bits, words.length));
  const modulus = 2 ** bits;
  let acc = 0; // pending bits, value < 2^(bits + 8)
  let pending = 0;
  let o = 0;
  for (let i = 0; i < words.length; i++) {
    acc += (words[i] % modulus) * 2 ** pending;
    pending += bits;
    while (pending >= 8) {
      const low = acc & 255;
      out[o++] = low;
      acc = (acc - low) / 256;
      pending -= 8;
    }
  }
  if (pending > 0) out[o] = acc;
  return out;
}

/**
 * Unpacks exactly `length` words of `bits` bits (each < 2^bits) from `bytes` (a fresh array).
 * @throws SecAggError E_BAD_LENGTH when `bytes` is not ceil(bits * length / 8) bytes long, E_BAD_MESSAGE when the
 *   padding bits of the last byte are not zero (a second encoding of the same words would pass otherwise).
 */
export function unpackWords(bytes: Uint8Array, bits: number, length: number): Uint32Array {
  checkPacked(bytes, bits, length);
  if (bits === 32) return bytesToWords(bytes);
  const out = new Uint32Array(length);
  forEachPacked(bytes, bits, length, (i, word) => {
    out[i] = word;
  });
  return out;
}

/**
 * `into[i] = (into[i] + word i) mod 2^32` for the `into.length` words packed in `bytes`, without a second array: the
 * aggregator sums each masked input into its accumulator as it arrives. Same checks as unpackWords (nothing is
 * added when they fail).
 */
export function addPackedWords(into: Uint32Array, bytes: Uint8Array, bits: number): Uint32Array {
  if (!(into instanceof Uint32Array)) throw new TypeError('into must be a Uint32Array');
  checkPacked(bytes, bits, into.length);
  if (bits === 32) {
    const words = bytesToWords(bytes);
    for (let i = 0; i < into.length; i++) into[i] = (into[i] + words[i]) >>> 0;
    return into;
  }
  forEachPacked(bytes, bits, into.length, (i, word) => {
    into[i] = (into[i] + word) >>> 0;
  });
  return into;
}

function checkPacked(bytes: Uint8Array, bits: number, length: number): void {
  if (!(bytes instanceof Uint8Array)) throw new SecAggError('E_BAD_MESSAGE', 'packed words must be bytes');
  requireInteger(bits, 'bits', 1, 32);
  requireInteger(length, 'length', 0, 2 ** 30);
  const expected = packedByteLength(bits, length);
  if (bytes.length !== expected) {
    throw new SecAggError('E_BAD_LENGTH', `packed input has ${bytes.length} bytes, expected ${expected}`);
  }
  const used = (bits * length) % 8; // bits of the last byte that carry data (0: all 8)
  if (used !== 0 && bytes[expected - 1] >>> used !== 0) {
    throw new SecAggError('E_BAD_MESSAGE', 'packed input has non-zero padding bits');
  }
}

/**
 * Calls `visit(i, word)` for each of the `length` b-bit words (b < 32) in `bytes`, in order. Integer arithmetic:
 * word i starts at bit p = b i, in byte p >> 3 at shift s = p & 7, and b + s <= 39 bits span at most 5 bytes: the
 * low 4 as one uint32 shifted right by s, the 5th shifted left into the bits above 32 - s. Bytes past the end
 * (only for the last words) read as 0, which the padding check in checkPacked makes exact.
 */
function forEachPacked(bytes: Uint8Array, bits: number, length: number, visit: (i: number, word: number) => void) {
  const mask = 2 ** bits - 1; // as an int32 operand of & (bits < 32): the low b bits
  const n = bytes.length;
  const at = (k: number) => (k < n ? bytes[k] : 0);
  // words whose 5 bytes all lie inside `bytes` take the unguarded path
  const safe = Math.max(0, Math.min(length, Math.floor(((n - 5) * 8) / bits) + 1));
  let p = 0;
  for (let i = 0; i < safe; i++, p += bits) {
    const j = p >>> 3;
    const s = p & 7;
    const lo = bytes[j] | (bytes[j + 1] << 8) | (bytes[j + 2] << 16) | (bytes[j + 3] << 24);
    const word = s === 0 ? lo : (lo >>> s) | (bytes[j + 4] << (32 - s));
    visit(i, (word & mask) >>> 0);
  }
  for (let i = safe; i < length; i++, p += bits) {
    const j = p >>> 3;
    const s = p & 7;
    const lo = at(j) | (at(j + 1) << 8) | (at(j + 2) << 16) | (at(j + 3) << 24);
    const word = s === 0 ? lo : (lo >>> s) | (at(j + 4) << (32 - s));
    visit(i, (word & mask) >>> 0);
  }
}

/**
 * The sum mod 2^bits, centred: words at or above 2^(bits - 1) become their negative, written as 32-bit two's
 * complement, so decoders that read `word | 0` get the signed sum in [-2^(bits-1), 2^(bits-1)). In place.
 */
export function centreModulo(words: Uint32Array, bits: number): Uint32Array {
  requireInteger(bits, 'bits', 1, 32);
  if (bits === 32) return words;
  const modulus = 2 ** bits;
  const half = modulus / 2;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] % modulus;
    words[i] = (w >= half ? w - modulus : w) >>> 0;
  }
  return words;
}
