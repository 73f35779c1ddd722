// Length + CRC32 framing shared by the write-ahead log and snapshots:
//   [u32 LE payload length][u32 LE CRC32 of payload][payload]
// A reader stops at the first frame that is short (torn write) or whose
// checksum fails (corruption), and reports where the valid prefix ends.
import { crc32 } from 'node:zlib';

export const FRAME_HEADER_BYTES = 8;
/** Frames above this are treated as corrupt lengths rather than allocated. */
export const MAX_FRAME_BYTES = 1 << 30;

/** Header + payload parts, ready for writev. */
export function frame(parts: readonly Uint8Array[]): Buffer[] {
  let length = 0;
  let crc = 0;
  for (const p of parts) {
    length += p.byteLength;
    crc = crc32(p, crc);
  }
  if (length > MAX_FRAME_BYTES) throw new RangeError(`frame of ${length} bytes exceeds ${MAX_FRAME_BYTES}`);
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32LE(length, 0);
  header.writeUInt32LE(crc >>> 0, 4);
  return [header, ...parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))];
}

export interface FrameScan {
  payloads: Buffer[];
  /** Offset just past the last good frame. */
  validEnd: number;
  /** Why the scan stopped before the end of the data, if it did. */
  problem?: string;
}

export function scanFrames(data: Buffer, start: number): FrameScan {
  const payloads: Buffer[] = [];
  let offset = start;
  while (offset < data.length) {
    if (data.length - offset < FRAME_HEADER_BYTES)
      return { payloads, validEnd: offset, problem: `torn frame header at offset ${offset}` };
    const length = data.readUInt32LE(offset);
    const crc = data.readUInt32LE(offset + 4);
    const begin = offset + FRAME_HEADER_BYTES;
    if (length > MAX_FRAME_BYTES)
      return { payloads, validEnd: offset, problem: `implausible frame length ${length} at offset ${offset}` };
    if (begin + length > data.length)
      return {
        payloads,
        validEnd: offset,
        problem: `torn frame at offset ${offset}: ${length} bytes declared, ${data.length - begin} present`,
      };
    const payload = data.subarray(begin, begin + length);
    if (crc32(payload) >>> 0 !== crc)
      return { payloads, validEnd: offset, problem: `checksum mismatch in frame at offset ${offset}` };
    payloads.push(payload);
    offset = begin + length;
  }
  return { payloads, validEnd: offset };
}
