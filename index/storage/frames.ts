// Length + CRC32 framing shared by the write-ahead log and snapshots:
//   [u32 LE payload length][u32 LE CRC32 of payload][payload]
// A reader stops at the first frame that is short (torn write) or whose
// checksum fails (corruption): scanFrames over bytes in memory reports where
// the valid prefix ends; FrameFileReader streams a file and throws.
import type { FileHandle } from 'node:fs/promises';
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

/** Why a frame of `length` bytes declared at `offset`, with `available` bytes after its header, cannot be read whole; undefined when it can. */
function lengthProblem(length: number, offset: number, available: number): string | undefined {
  if (length > MAX_FRAME_BYTES) return `implausible frame length ${length} at offset ${offset}`;
  if (length > available) return `torn frame at offset ${offset}: ${length} bytes declared, ${available} present`;
  return undefined;
}

const checksumProblem = (payload: Uint8Array, crc: number, offset: number): string | undefined =>
  crc32(payload) >>> 0 === crc ? undefined : `checksum mismatch in frame at offset ${offset}`;

export function scanFrames(data: Buffer, start: number): FrameScan {
  const payloads: Buffer[] = [];
  let offset = start;
  while (offset < data.length) {
    if (data.length - offset < FRAME_HEADER_BYTES)
      return { payloads, validEnd: offset, problem: `torn frame header at offset ${offset}` };
    const length = data.readUInt32LE(offset);
    const begin = offset + FRAME_HEADER_BYTES;
    const tooLong = lengthProblem(length, offset, data.length - begin);
    if (tooLong) return { payloads, validEnd: offset, problem: tooLong };
    const payload = data.subarray(begin, begin + length);
    const corrupt = checksumProblem(payload, data.readUInt32LE(offset + 4), offset);
    if (corrupt) return { payloads, validEnd: offset, problem: corrupt };
    payloads.push(payload);
    offset = begin + length;
  }
  return { payloads, validEnd: offset };
}

/**
 * Reads a file's frames one at a time, so a file of any size is read in
 * memory of one frame. Each payload is a fresh buffer starting at offset 0 of
 * its own memory (typed views of it are aligned). A short, implausible or
 * corrupt frame throws.
 */
export class FrameFileReader {
  private constructor(
    private readonly handle: FileHandle,
    private readonly size: number,
    private offset: number,
  ) {}

  static async open(handle: FileHandle, start: number): Promise<FrameFileReader> {
    return new FrameFileReader(handle, (await handle.stat()).size, start);
  }

  get atEnd(): boolean {
    return this.offset >= this.size;
  }

  /** The next payload, or null at the end of the file. */
  async next(): Promise<Buffer | null> {
    if (this.atEnd) return null;
    const offset = this.offset;
    if (this.size - offset < FRAME_HEADER_BYTES) throw new Error(`torn frame header at offset ${offset}`);
    const header = await this.read(Buffer.allocUnsafe(FRAME_HEADER_BYTES), offset);
    const length = header.readUInt32LE(0);
    const begin = offset + FRAME_HEADER_BYTES;
    const tooLong = lengthProblem(length, offset, this.size - begin);
    if (tooLong) throw new Error(tooLong);
    const payload = await this.read(Buffer.allocUnsafeSlow(length), begin);
    const corrupt = checksumProblem(payload, header.readUInt32LE(4), offset);
    if (corrupt) throw new Error(corrupt);
    this.offset = begin + length;
    return payload;
  }

  private async read(into: Buffer, position: number): Promise<Buffer> {
    let filled = 0;
    while (filled < into.length) {
      const { bytesRead } = await this.handle.read(into, filled, into.length - filled, position + filled);
      if (bytesRead === 0) throw new Error(`file ended at offset ${position + filled}, inside a frame`);
      filled += bytesRead;
    }
    return into;
  }
}
