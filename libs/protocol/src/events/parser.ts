/**
 * The socket.io packet parser both ends use.
 *
 * socket.io-parser sends a packet with binary fields as a JSON frame plus one frame per binary field (a key roster
 * of k + 1 members is 3(k + 1) + 1 WebSocket frames, the seed-flip lists 2 and 1 per cohort member): at cohort 100
 * that was tens of thousands of frames a round, each one write on the aggregator's side (issue 20's profile: `writev`
 * was the largest single cost). This parser sends such a packet as ONE binary frame:
 *
 *   "CCP2" | u32 header length | header | u32 n | n x u32 length | the n buffers back to back   (little-endian)
 *
 * where the header is socket.io-parser's own JSON part, placeholders numbered 0..n-1 included. The decoder hands the
 * header and then the n buffers to socket.io-parser's reconstruction, so handlers see the same packet as before
 * (each field a Buffer view into the frame). Packets without binary fields are socket.io-parser's, unchanged, and
 * so is a binary frame without the magic (the stock encoder's attachments still decode).
 *
 * Bounds: socket.io-parser's own guard refuses more than MAX_ATTACHMENTS attachments (its default of 10 is too few
 * for a stock-encoded roster), packed or not; a packed frame's lengths must add up to the frame exactly. Total size
 * stays bounded by maxHttpBufferSize (PROTOCOL_LIMITS.maxFrameBytes).
 */
import { Decoder, Encoder, protocol } from 'socket.io-parser';
import { PROTOCOL_LIMITS } from './version.js';

/** 4 binary fields per cohort member covers every message of the protocol (key roster: 3 per member). */
export const MAX_ATTACHMENTS = 4 * PROTOCOL_LIMITS.maxCohort + 16;

const MAGIC = 0x32504343; // "CCP2" read as a little-endian u32

function asBytes(b: unknown): Uint8Array {
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  throw new TypeError('binary attachment: expected an ArrayBuffer or a view of one');
}

/** One frame holding socket.io-parser's `header` and its `buffers` (layout above). */
export function packPacket(header: string, buffers: readonly unknown[]): Buffer {
  const parts = buffers.map(asBytes);
  const head = Buffer.from(header, 'utf8');
  const tableAt = 8 + head.length;
  const dataAt = tableAt + 4 + 4 * parts.length;
  const frame = Buffer.allocUnsafe(dataAt + parts.reduce((n, p) => n + p.length, 0));
  frame.writeUInt32LE(MAGIC, 0);
  frame.writeUInt32LE(head.length, 4);
  head.copy(frame, 8);
  frame.writeUInt32LE(parts.length, tableAt);
  let offset = dataAt;
  parts.forEach((p, i) => {
    frame.writeUInt32LE(p.length, tableAt + 4 + 4 * i);
    frame.set(p, offset);
    offset += p.length;
  });
  return frame;
}

/**
 * The header and buffers of a packed frame (views into it), or undefined when `frame` does not start with the magic.
 * @throws Error for more than `max` buffers or lengths that do not add up to the frame.
 */
export function unpackPacket(frame: unknown, max = MAX_ATTACHMENTS): { header: string; buffers: Buffer[] } | undefined {
  const bytes = asBytes(frame);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length < 12 || view.readUInt32LE(0) !== MAGIC) return undefined;
  const headLength = view.readUInt32LE(4);
  const tableAt = 8 + headLength;
  if (tableAt + 4 > view.length) throw new Error('packed packet: truncated');
  const header = view.toString('utf8', 8, tableAt);
  const n = view.readUInt32LE(tableAt);
  if (n < 1 || n > max) throw new Error('packed packet: bad attachment count');
  let offset = tableAt + 4 + 4 * n;
  if (offset > view.length) throw new Error('packed packet: truncated');
  const buffers: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const length = view.readUInt32LE(tableAt + 4 + 4 * i);
    if (offset + length > view.length) throw new Error('packed packet: truncated');
    buffers.push(view.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== view.length) throw new Error('packed packet: trailing bytes');
  return { header, buffers };
}

class PackingEncoder extends Encoder {
  override encode(obj: Parameters<Encoder['encode']>[0]): ReturnType<Encoder['encode']> {
    const parts = super.encode(obj);
    return parts.length < 2 ? parts : [packPacket(parts[0] as string, parts.slice(1))];
  }
}

class PackingDecoder extends Decoder {
  constructor() {
    super({ maxAttachments: MAX_ATTACHMENTS });
  }

  override add(obj: unknown): void {
    const reconstructing = (this as unknown as { reconstructor?: unknown }).reconstructor;
    if (!reconstructing && (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer)) {
      const packed = unpackPacket(obj);
      if (packed) {
        // exactly what the stock encoder would have sent as separate frames: its JSON part, then each buffer
        const declared = /^[56](\d+)-/.exec(packed.header);
        if (!declared || Number(declared[1]) !== packed.buffers.length) {
          throw new Error('packed packet: not a binary event or ack with its attachments');
        }
        super.add(packed.header);
        for (const b of packed.buffers) super.add(b);
        return;
      }
    }
    super.add(obj);
  }
}

/** Pass as the `parser` option of socket.io's Server and of socket.io-client's `io()`. */
export const concordSocketParser = { protocol, Encoder: PackingEncoder, Decoder: PackingDecoder };
