// Length + CRC32 framing shared by the write-ahead log and snapshots:
//   [u32 LE payload length][u32 LE CRC32 of payload][payload]
// A reader stops at the first frame that is short (torn write) or whose
// checksum fails (corruption), and reports where the valid prefix ends.
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

/** A frame that is torn, implausibly long or corrupt, at `offset`: where the file's valid prefix ends. */
export class FrameProblem extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'FrameProblem';
  }
}

/**
 * Reads a file's frames one at a time, so a file of any size is read in
 * memory of one frame. Each payload is a fresh buffer starting at offset 0 of
 * its own memory (typed views of it are aligned). A short, implausible or
 * corrupt frame throws a FrameProblem.
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
    if (this.size - offset < FRAME_HEADER_BYTES) throw new FrameProblem(`torn frame header at offset ${offset}`, offset);
    const header = await this.read(Buffer.allocUnsafe(FRAME_HEADER_BYTES), offset);
    const length = header.readUInt32LE(0);
    const begin = offset + FRAME_HEADER_BYTES;
    const present = this.size - begin;
    if (length > MAX_FRAME_BYTES) throw new FrameProblem(`implausible frame length ${length} at offset ${offset}`, offset);
    if (length > present) throw new FrameProblem(`torn frame at offset ${offset}: ${length} bytes declared, ${present} present`, offset);
    const payload = await this.read(Buffer.allocUnsafeSlow(length), begin);
    if (crc32(payload) >>> 0 !== header.readUInt32LE(4)) throw new FrameProblem(`checksum mismatch in frame at offset ${offset}`, offset);
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
