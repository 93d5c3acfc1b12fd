/**
 * The socket.io packet parser both ends use.
 *
 * socket.io-parser sends every binary field of a packet as a frame of its own (a key roster of k + 1 members is
 * 3(k + 1) + 1 WebSocket frames, the seed-flip lists 2 and 1 per cohort member): at cohort 100 that was tens of
 * thousands of frames a round, each one write on the aggregator's side (issue 20's profile: `writev` was the largest
 * single cost). This parser sends a packet's binary fields PACKED into one frame instead: the JSON part is exactly
 * socket.io-parser's (placeholders numbered 0..n-1) but declares one attachment, and that attachment is
 *
 *   "CCP1" | u32 n | n x u32 length | the n buffers back to back        (little-endian)
 *
 * The decoder splits it back into the n buffers and hands them to socket.io-parser's reconstruction, so handlers
 * see the same packet as before (each field a Buffer view into the frame). A binary frame without the magic is
 * taken as socket.io-parser's own single attachment, so a packet from the stock encoder still decodes.
 *
 * Bounds: socket.io-parser's own guard refuses more than MAX_ATTACHMENTS separate attachments (its default of 10 is
 * too few for a stock-encoded roster); a packed frame may declare at most MAX_ATTACHMENTS buffers and its lengths
 * must add up to the frame exactly. Total size stays bounded by maxHttpBufferSize (PROTOCOL_LIMITS.maxFrameBytes).
 */
import { Decoder, Encoder, protocol } from 'socket.io-parser';
import { PROTOCOL_LIMITS } from './version.js';

/** 4 binary fields per cohort member covers every message of the protocol (key roster: 3 per member). */
export const MAX_ATTACHMENTS = 4 * PROTOCOL_LIMITS.maxCohort + 16;

const MAGIC = 0x31504343; // "CCP1" read as a little-endian u32

function asBytes(b: unknown): Uint8Array {
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  throw new TypeError('binary attachment: expected an ArrayBuffer or a view of one');
}

/** One frame holding `buffers` (layout above). */
export function packAttachments(buffers: readonly unknown[]): Buffer {
  const parts = buffers.map(asBytes);
  const headerBytes = 8 + 4 * parts.length;
  const frame = Buffer.allocUnsafe(headerBytes + parts.reduce((n, p) => n + p.length, 0));
  frame.writeUInt32LE(MAGIC, 0);
  frame.writeUInt32LE(parts.length, 4);
  let offset = headerBytes;
  parts.forEach((p, i) => {
    frame.writeUInt32LE(p.length, 8 + 4 * i);
    frame.set(p, offset);
    offset += p.length;
  });
  return frame;
}

/**
 * The buffers of a packed frame (views into it), or undefined when `frame` does not start with the magic.
 * @throws Error for a packed frame with more than `max` buffers or lengths that do not add up to the frame.
 */
export function unpackAttachments(frame: unknown, max = MAX_ATTACHMENTS): Buffer[] | undefined {
  const bytes = asBytes(frame);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length < 8 || view.readUInt32LE(0) !== MAGIC) return undefined;
  const n = view.readUInt32LE(4);
  if (n < 1 || n > max) throw new Error('packed attachments: bad count');
  let offset = 8 + 4 * n;
  if (offset > view.length) throw new Error('packed attachments: truncated');
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const length = view.readUInt32LE(8 + 4 * i);
    if (offset + length > view.length) throw new Error('packed attachments: truncated');
    out.push(view.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== view.length) throw new Error('packed attachments: trailing bytes');
  return out;
}

class PackingEncoder extends Encoder {
  override encode(obj: Parameters<Encoder['encode']>[0]): ReturnType<Encoder['encode']> {
    const parts = super.encode(obj);
    if (parts.length < 2) return parts;
    // a binary packet's header is `${type}${n}-...` (socket.io-parser encodeAsString): n attachments become 1
    const header = parts[0] as string;
    const dash = header.indexOf('-');
    return [`${header[0]}1${header.slice(dash)}`, packAttachments(parts.slice(1))];
  }
}

interface Reconstructing {
  reconstructor?: { reconPack: { attachments: number } } | null;
}

class PackingDecoder extends Decoder {
  constructor() {
    super({ maxAttachments: MAX_ATTACHMENTS });
  }

  override add(obj: unknown): void {
    const pending = (this as unknown as Reconstructing).reconstructor;
    const binary = ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer;
    if (binary && pending && pending.reconPack.attachments === 1) {
      const buffers = unpackAttachments(obj);
      if (buffers) {
        // the header declared the one packed frame: socket.io-parser now takes the n buffers it holds
        pending.reconPack.attachments = buffers.length;
        for (const b of buffers) super.add(b);
        return;
      }
    }
    super.add(obj);
  }
}

/** Pass as the `parser` option of socket.io's Server and of socket.io-client's `io()`. */
export const concordSocketParser = { protocol, Encoder: PackingEncoder, Decoder: PackingDecoder };
