import type { RgbImage } from '../../native/index.ts';
import { concatBytes } from '../../common/bytes.ts';
import { CorruptImageError } from './errors.ts';
import { checkPixels } from './probe.ts';

/**
 * The first frame of a GIF as Pillow 9.4 gives it after `convert("RGB")`. libvips composites it over a
 * transparent canvas, so its transparent pixels come out black; Pillow keeps the palette colour of the
 * transparent index (and fills the canvas outside the frame with that index, or 0 without one).
 */

const MAX_CODE_BITS = 12;
const TABLE_SIZE = 1 << MAX_CODE_BITS;

class Reader {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}

  u8(): number {
    if (this.at >= this.bytes.length) throw new CorruptImageError('GIF is truncated');
    return this.bytes[this.at++] as number;
  }

  u16(): number {
    return this.u8() | (this.u8() << 8);
  }

  take(n: number): Uint8Array {
    if (this.at + n > this.bytes.length) throw new CorruptImageError('GIF is truncated');
    this.at += n;
    return this.bytes.subarray(this.at - n, this.at);
  }

  /** Concatenated data sub-blocks up to the zero-length terminator. */
  subBlocks(): Uint8Array {
    const parts: Uint8Array[] = [];
    for (let size = this.u8(); size > 0; size = this.u8()) parts.push(this.take(size));
    return concatBytes(parts);
  }
}

interface Frame {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
  readonly interlaced: boolean;
  readonly palette: Uint8Array | null;
  readonly transparent: number | null;
  readonly minCodeSize: number;
  readonly data: Uint8Array;
}

function readFirstFrame(reader: Reader, globalPalette: Uint8Array | null): Frame {
  let transparent: number | null = null;
  for (;;) {
    const introducer = reader.u8();
    if (introducer === 0x3b) throw new CorruptImageError('GIF has no image');
    if (introducer === 0x21) {
      const label = reader.u8();
      const block = reader.subBlocks();
      // Graphic control extension: bit 0 of the flags says whether byte 3 is a transparent index.
      if (label === 0xf9 && block.length >= 4 && ((block[0] as number) & 1) !== 0) transparent = block[3] as number;
      continue;
    }
    // Pillow skips unknown bytes between blocks.
    if (introducer !== 0x2c) continue;
    const left = reader.u16();
    const top = reader.u16();
    const width = reader.u16();
    const height = reader.u16();
    const flags = reader.u8();
    const palette = (flags & 0x80) !== 0 ? reader.take(3 << ((flags & 7) + 1)) : globalPalette;
    const minCodeSize = reader.u8();
    if (minCodeSize < 1 || minCodeSize > 11) {
      throw new CorruptImageError(`GIF has an invalid LZW code size ${minCodeSize}`);
    }
    const data = reader.subBlocks();
    return { left, top, width, height, interlaced: (flags & 0x40) !== 0, palette, transparent, minCodeSize, data };
  }
}

/** Rows in the order an interlaced frame stores them. */
function rowOrder(height: number, interlaced: boolean): Int32Array {
  const order = new Int32Array(height);
  if (!interlaced) {
    for (let y = 0; y < height; y++) order[y] = y;
    return order;
  }
  let i = 0;
  for (const [start, step] of [[0, 8], [4, 8], [2, 4], [1, 2]] as const) {
    for (let y = start; y < height; y += step) order[i++] = y;
  }
  return order;
}

/** GIF LZW (LSB-first codes, widening up to 12 bits, deferred clear), each index handed to `write` until it says stop. */
function decodeLzw(frame: Frame, write: (index: number) => boolean): void {
  const { data, minCodeSize } = frame;
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const prefix = new Int16Array(TABLE_SIZE);
  const suffix = new Uint8Array(TABLE_SIZE);
  const first = new Uint8Array(TABLE_SIZE);
  const stack = new Uint8Array(TABLE_SIZE);
  for (let i = 0; i < clear; i++) {
    suffix[i] = i;
    first[i] = i;
  }
  let codeSize = minCodeSize + 1;
  let next = clear + 2;
  let previous = -1;
  let bits = 0;
  let buffer = 0;
  let at = 0;
  for (;;) {
    while (bits < codeSize) {
      if (at >= data.length) throw new CorruptImageError('GIF image data is truncated');
      buffer |= (data[at++] as number) << bits;
      bits += 8;
    }
    const code = buffer & ((1 << codeSize) - 1);
    buffer >>>= codeSize;
    bits -= codeSize;

    if (code === clear) {
      codeSize = minCodeSize + 1;
      next = clear + 2;
      previous = -1;
      continue;
    }
    if (code === end) return;
    if (previous === -1) {
      if (code > clear) throw new CorruptImageError('GIF image data is corrupt');
      previous = code;
      if (!write(code)) return;
      continue;
    }
    if (code > next) throw new CorruptImageError('GIF image data is corrupt');
    // code === next: the entry being defined, previous string plus its own first byte.
    let c = code === next ? previous : code;
    let depth = 0;
    if (code === next) stack[depth++] = first[previous] as number;
    while (c >= clear) {
      stack[depth++] = suffix[c] as number;
      c = prefix[c] as number;
    }
    stack[depth++] = c;
    const firstByte = c;
    while (depth > 0) if (!write(stack[--depth] as number)) return;
    if (next < TABLE_SIZE) {
      prefix[next] = previous;
      suffix[next] = firstByte;
      first[next] = first[previous] as number;
      next++;
      if (next === 1 << codeSize && codeSize < MAX_CODE_BITS) codeSize++;
    }
    previous = code;
  }
}

export function decodeGifFirstFrame(bytes: Uint8Array, maxPixels: number): RgbImage {
  const reader = new Reader(bytes);
  reader.take(6);
  let width = reader.u16();
  let height = reader.u16();
  const flags = reader.u8();
  reader.take(2);
  const globalPalette = (flags & 0x80) !== 0 ? reader.take(3 << ((flags & 7) + 1)) : null;
  const frame = readFirstFrame(reader, globalPalette);
  // Like Pillow, grow the canvas to a frame that sticks out of the logical screen.
  width = Math.max(width, frame.left + frame.width);
  height = Math.max(height, frame.top + frame.height);
  checkPixels(width, height, maxPixels);
  if (width === 0 || height === 0) throw new CorruptImageError('GIF has zero size');

  const indices = new Uint8Array(width * height).fill(frame.transparent ?? 0);
  const rows = rowOrder(frame.height, frame.interlaced);
  let x = 0;
  let row = 0;
  if (frame.width > 0 && frame.height > 0) {
    let offset = (frame.top + (rows[0] as number)) * width + frame.left;
    decodeLzw(frame, (index) => {
      indices[offset + x] = index;
      if (++x < frame.width) return true;
      x = 0;
      if (++row >= frame.height) return false;
      offset = (frame.top + (rows[row] as number)) * width + frame.left;
      return true;
    });
  }

  // Pillow's palette starts as a grey ramp, so indices past the end of a short palette are grey.
  const palette = frame.palette ?? new Uint8Array(0);
  const entries = palette.length / 3;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, o = 0; i < indices.length; i++, o += 3) {
    const index = indices[i] as number;
    if (index < entries) {
      rgb[o] = palette[index * 3] as number;
      rgb[o + 1] = palette[index * 3 + 1] as number;
      rgb[o + 2] = palette[index * 3 + 2] as number;
    } else {
      rgb[o] = rgb[o + 1] = rgb[o + 2] = index;
    }
  }
  return { data: rgb, width, height };
}
