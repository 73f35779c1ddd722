/**
 * Inputs generated here — small images that get upscaled, every PNG colour type and bit depth, GIF
 * transparency — give exactly the tensors that Pillow gives. The SHA-256 digests of the expected tensors
 * were computed once from these same files with Debian 12's python3-pil 9.4.0 and numpy 1.24.2, running
 * the pipeline of the fixtures README §2 (EXIF transpose, convert("RGB"), resize BICUBIC, floor centre crop,
 * rescale, normalise, CHW); that script reproduces the shared reference tensors bit for bit.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { parseHfPreprocessorConfig, preprocess } from '../../embedder/image/index.ts';
import { seededRandom } from '../support/random.ts';
import { pngChunk } from '../support/png.ts';

const config = parseHfPreprocessorConfig({
  size: { shortest_edge: 224 },
  crop_size: { height: 224, width: 224 },
  resample: 3,
});


/** A PNG from raw scanlines (filter byte added here), with extra chunks such as PLTE and tRNS. */
function png(
  width: number,
  height: number,
  bitDepth: number,
  colourType: number,
  rows: Uint8Array[],
  extra: [string, Uint8Array][] = [],
): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colourType;
  const scanlines = Buffer.concat(rows.map((row) => Buffer.concat([Buffer.of(0), row])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    ...extra.map(([type, data]) => pngChunk(type, data)),
    pngChunk('IDAT', deflateSync(scanlines)),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

/** Smooth gradients, hard edges and noise, so that every resampling tap matters. */
function pattern(width: number, height: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const edge = ((x >> 3) + (y >> 3)) & 1 ? 60 : 0;
      rgb[o] = (x * 255) / Math.max(1, width - 1) * 0.7 + edge + random() * 16;
      rgb[o + 1] = (y * 255) / Math.max(1, height - 1) * 0.7 + random() * 60;
      rgb[o + 2] = ((x * y) & 255) * 0.5 + edge * 2;
    }
  }
  return rgb;
}

/** Rows of `width` pixels of `bytesPerPixel` bytes, each filled by `fill(row, x, y, offset)`. */
function rows(
  width: number,
  height: number,
  bytesPerPixel: number,
  fill: (row: Buffer, x: number, y: number, offset: number) => void,
): Buffer[] {
  return Array.from({ length: height }, (_, y) => {
    const row = Buffer.alloc(Math.ceil(width * bytesPerPixel));
    for (let x = 0; x < width; x++) fill(row, x, y, x * bytesPerPixel);
    return row;
  });
}

function rgbPng(width: number, height: number, seed: number): Buffer {
  const rgb = pattern(width, height, seed);
  return png(width, height, 8, 2, rows(width, height, 3, (row, x, y, o) => row.set(rgb.subarray((y * width + x) * 3, (y * width + x) * 3 + 3), o)));
}

const W = 300;
const H = 260;
const base = pattern(W, H, 1);
const at = (x: number, y: number, c: number) => base[(y * W + x) * 3 + c]!;
const luma = (x: number, y: number) => Math.round(0.299 * at(x, y, 0) + 0.587 * at(x, y, 1) + 0.114 * at(x, y, 2));
const palette = Uint8Array.from({ length: 768 }, (_, i) => (i * 37 + (i % 3) * 91) & 255);

/** A one-frame GIF89a whose LZW stream holds only literal codes (valid, just not compressed). */
function gif(options: {
  screen: [number, number];
  frame: [number, number, number, number];
  globalPalette: Uint8Array;
  localPalette?: Uint8Array;
  transparent?: number;
  interlaced?: boolean;
  indices: (x: number, y: number) => number;
}): Buffer {
  const [left, top, width, height] = options.frame;
  const minCodeSize = 8;
  const clear = 1 << minCodeSize;
  const order: number[] = [];
  if (options.interlaced) {
    for (const [start, step] of [[0, 8], [4, 8], [2, 4], [1, 2]] as const) for (let y = start; y < height; y += step) order.push(y);
  } else for (let y = 0; y < height; y++) order.push(y);

  const codes: number[] = [clear];
  let sinceClear = 0;
  for (const y of order) {
    for (let x = 0; x < width; x++) {
      codes.push(options.indices(x, y));
      // Clear before the decoder's table would widen codes past 9 bits.
      if (++sinceClear === 250) {
        codes.push(clear);
        sinceClear = 0;
      }
    }
  }
  codes.push(clear + 1);
  const data: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const code of codes) {
    buffer |= code << bits;
    bits += 9;
    while (bits >= 8) {
      data.push(buffer & 255);
      buffer >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) data.push(buffer & 255);
  const blocks: number[] = [];
  for (let i = 0; i < data.length; i += 255) blocks.push(Math.min(255, data.length - i), ...data.slice(i, i + 255));
  blocks.push(0);

  const tableBits = (p: Uint8Array) => Math.log2(p.length / 3) - 1;
  const u16 = (v: number) => [v & 255, v >> 8];
  return Buffer.from([
    ...Buffer.from('GIF89a'),
    ...u16(options.screen[0]),
    ...u16(options.screen[1]),
    0x80 | tableBits(options.globalPalette),
    0,
    0,
    ...options.globalPalette,
    ...(options.transparent === undefined ? [] : [0x21, 0xf9, 4, 1, 0, 0, options.transparent, 0]),
    0x2c,
    ...u16(left),
    ...u16(top),
    ...u16(width),
    ...u16(height),
    (options.localPalette ? 0x80 | tableBits(options.localPalette) : 0) | (options.interlaced ? 0x40 : 0),
    ...(options.localPalette ?? []),
    minCodeSize,
    ...blocks,
    0x3b,
  ]);
}

/** name → [input bytes, SHA-256 of the tensor Pillow gives]. */
const CASES: Record<string, [() => Buffer, string]> = {
  // Upscaled: the short side is under 224.
  'RGB 1x1': [() => rgbPng(1, 1, 2), '2e231d61a9f7a4fb33404c97887517f26435841dc3dc29b4dc02ebdee46e1722'],
  'RGB 17x13': [() => rgbPng(17, 13, 3), 'b8bf261bc3d9ff7b9a5d16da219d9764514b93e1ac43ba73acb6a833e2b41db4'],
  'RGB 50x37': [() => rgbPng(50, 37, 4), '3629410c21883a94eef69988e6724a8948a9e18dd051cce63a5d2a4fb74a5321'],
  'RGB 97x61': [() => rgbPng(97, 61, 5), 'eb8158ffce8afa6e5781e42b05ef6cf4865eedbb6d2e99111f798a20bd81125b'],
  'RGB 223x300 (one pixel short)': [() => rgbPng(223, 300, 6), '2b2a860b7908ce676e817f4ec058b593c84c3475f778cc97597b4a3abb0e65cf'],
  'RGB 3x500 (extreme portrait)': [() => rgbPng(3, 500, 7), 'fb5430aa5ad11b7c96cfa8b9a5762b72219485bd1468b9f857f1d7e5783e76d7'],
  'RGB 640x2 (extreme landscape)': [() => rgbPng(640, 2, 8), '64b0c6290738c5ee30d3e56e057087ce9a2180577401fb59552dade24a078d71'],
  // Downscaled.
  'RGB 451x300 (long side truncated to 336)': [() => rgbPng(451, 300, 9), '8f0ec5351ab26c9a697b855c6c2350b9a817d5fba06fb7a36097f5263fcadcce'],
  'RGB 331x997 (portrait, odd crop margin)': [() => rgbPng(331, 997, 10), 'b8587f294741bd081fa73b5d49b4ad90c82d1297ce485698bc9e05bfa29378b3'],
  'RGB 224x224 (no resize)': [() => rgbPng(224, 224, 11), '2b417d56f328d53d5103cd03b3b408d276b3e3da8945bbe49cf64cdd167b5847'],
  // PNG colour types and bit depths.
  'grey 8-bit': [() => png(W, H, 8, 0, rows(W, H, 1, (r, x, y, o) => (r[o] = luma(x, y)))), 'd625f53604d7e9e5ddbea23b39f0a36695aeff65f83ab8174a8d8e68fa0063f4'],
  'grey 8-bit with tRNS': [
    () => png(W, H, 8, 0, rows(W, H, 1, (r, x, y, o) => (r[o] = luma(x, y))), [['tRNS', Uint8Array.of(0, 128)]]),
    'd625f53604d7e9e5ddbea23b39f0a36695aeff65f83ab8174a8d8e68fa0063f4',
  ],
  'grey 1-bit': [() => png(W, H, 1, 0, rows(W, H, 1 / 8, (r, x, y) => (r[x >> 3]! |= luma(x, y) > 128 ? 0x80 >> (x & 7) : 0))), 'e620860aebd40373c4299aba86ed320553fa5db482842d97c0eccbb7c41cabc2'],
  'grey + alpha 8-bit': [
    () => png(W, H, 8, 4, rows(W, H, 2, (r, x, y, o) => r.set([luma(x, y), (x * 7 + y) & 255], o))),
    'd625f53604d7e9e5ddbea23b39f0a36695aeff65f83ab8174a8d8e68fa0063f4',
  ],
  'grey 16-bit (PIL clips to 255, it does not keep the high byte)': [
    () => png(W, H, 16, 0, rows(W, H, 2, (r, x, y, o) => r.writeUInt16BE(luma(x, y) * 2 + (x & 1) * 300, o))),
    '7066f0be596aeaf080b4434faba7229d4bbb08ec319cc224b70ee4106f7b9699',
  ],
  'grey + alpha 16-bit': [
    () =>
      png(W, H, 16, 4, rows(W, H, 4, (r, x, y, o) => {
        r.writeUInt16BE(luma(x, y) * 257, o);
        r.writeUInt16BE((x * 97) & 0xffff, o + 2);
      })),
    'd625f53604d7e9e5ddbea23b39f0a36695aeff65f83ab8174a8d8e68fa0063f4',
  ],
  'RGB 16-bit': [
    () => png(W, H, 16, 2, rows(W, H, 6, (r, x, y, o) => [0, 1, 2].forEach((c) => r.writeUInt16BE(at(x, y, c) * 256 + ((x * 31 + c) & 255), o + 2 * c)))),
    '975db2e1b62a2b5ff81be0552ddfb70826bf14471e16b60d1bba43f09c3aabb3',
  ],
  'RGBA 16-bit': [
    () =>
      png(W, H, 16, 6, rows(W, H, 8, (r, x, y, o) => {
        [0, 1, 2].forEach((c) => r.writeUInt16BE(at(x, y, c) * 256 + ((y + c) & 255), o + 2 * c));
        r.writeUInt16BE((x * 300) & 0xffff, o + 6);
      })),
    '975db2e1b62a2b5ff81be0552ddfb70826bf14471e16b60d1bba43f09c3aabb3',
  ],
  'RGBA 8-bit, alpha 0 everywhere (alpha dropped, not composited)': [
    () => png(W, H, 8, 6, rows(W, H, 4, (r, x, y, o) => r.set([at(x, y, 0), at(x, y, 1), at(x, y, 2), 0], o))),
    '975db2e1b62a2b5ff81be0552ddfb70826bf14471e16b60d1bba43f09c3aabb3',
  ],
  'palette 8-bit': [
    () => png(W, H, 8, 3, rows(W, H, 1, (r, x, y, o) => (r[o] = at(x, y, 0) ^ (at(x, y, 1) >> 1))), [['PLTE', palette]]),
    '81312cfa41bd2d8228b6036f39d7dc6c706f9c02ba542b2a7d4ddc4b89df6eae',
  ],
  'palette 8-bit with tRNS': [
    () =>
      png(W, H, 8, 3, rows(W, H, 1, (r, x, y, o) => (r[o] = at(x, y, 2))), [
        ['PLTE', palette],
        ['tRNS', Uint8Array.from({ length: 256 }, (_, i) => (i * 5) & 255)],
      ]),
    '5f6d7cebcebedd4e31cc79248231527611459914f3d97a7e99ae3eda6528a296',
  ],
  'palette 4-bit': [
    () => png(W, H, 4, 3, rows(W, H, 1 / 2, (r, x, y) => (r[x >> 1]! |= (luma(x, y) >> 4) << (x & 1 ? 0 : 4))), [['PLTE', palette.subarray(0, 48)]]),
    'cc3daf475fb56b750ae3e1059d02903bf40d14a1a9ab1097c0a34f29d67f0d73',
  ],
  // GIF: Pillow keeps the transparent index's palette colour and fills the canvas outside the frame with it.
  'GIF, transparent index, frame smaller than the screen, local palette shorter than the indices': [
    () =>
      gif({
        screen: [120, 90],
        frame: [11, 7, 80, 60],
        globalPalette: palette.subarray(0, 6),
        localPalette: palette.subarray(96, 96 + 48),
        transparent: 3,
        indices: (x, y) => (x * 3 + y * 5) % 20,
      }),
    'cebdc128ed6c745fa4dfb02b8c65331e0add580c5ecdfbee1d87fdad2fbc9a48',
  ],
  'GIF, interlaced, no transparency': [
    () =>
      gif({
        screen: [W, H],
        frame: [0, 0, W, H],
        globalPalette: palette,
        interlaced: true,
        indices: (x, y) => at(x, y, 1),
      }),
    'e61097110a6b95960ab1339cc9f6a8545cd3f14d4fe9ca46a8a19b0d75baf7b1',
  ],
};

function digest(tensor: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength)).digest('hex');
}

describe('preprocessing generated images exactly as Pillow does', () => {
  it.each(Object.entries(CASES))('%s', async (_name, [make, expected]) => {
    const bytes = make();
    const tensor = await preprocess(bytes, config);
    expect(tensor.length).toBe(3 * 224 * 224);
    expect(digest(tensor)).toBe(expected);
  });
});

describe('conversions that must not change the pixels', () => {
  const rgb8 = () =>
    png(W, H, 8, 2, rows(W, H, 3, (r, x, y, o) => r.set([at(x, y, 0), at(x, y, 1), at(x, y, 2)], o)));
  const grey8 = CASES['grey 8-bit']![0];

  it.each(['RGB 16-bit', 'RGBA 16-bit', 'RGBA 8-bit, alpha 0 everywhere (alpha dropped, not composited)'])(
    '%s gives the same tensor as the 8-bit RGB image',
    async (name) => {
      expect(digest(await preprocess(CASES[name]![0](), config))).toBe(digest(await preprocess(rgb8(), config)));
    },
  );

  it.each(['grey 8-bit with tRNS', 'grey + alpha 8-bit', 'grey + alpha 16-bit'])(
    '%s gives the same tensor as the 8-bit grey image',
    async (name) => {
      expect(digest(await preprocess(CASES[name]![0](), config))).toBe(digest(await preprocess(grey8(), config)));
    },
  );
});

/** Where the upright pixel (x, y) is stored, for each EXIF orientation; stored is `width` x `height`. */
const STORED_AT: Record<number, (x: number, y: number, width: number, height: number) => [number, number]> = {
  1: (x, y) => [x, y],
  2: (x, y, w) => [w - 1 - x, y],
  3: (x, y, w, h) => [w - 1 - x, h - 1 - y],
  4: (x, y, _w, h) => [x, h - 1 - y],
  5: (x, y) => [y, x],
  6: (x, y, _w, h) => [y, h - 1 - x],
  7: (x, y, w, h) => [w - 1 - y, h - 1 - x],
  8: (x, y, w) => [w - 1 - y, x],
};

describe('EXIF orientation', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('orientation %i is undone before resizing, as ImageOps.exif_transpose does', async (orientation) => {
    const swapped = orientation >= 5;
    const [sw, sh] = swapped ? [H, W] : [W, H];
    const stored = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const [sx, sy] = STORED_AT[orientation]!(x, y, sw, sh);
        stored.set(base.subarray((y * W + x) * 3, (y * W + x) * 3 + 3), (sy * sw + sx) * 3);
      }
    }
    const bytes = await sharp(stored, { raw: { width: sw, height: sh, channels: 3 } })
      .png()
      .withMetadata({ orientation })
      .toBuffer();
    const upright = await sharp(base, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
    expect(digest(await preprocess(bytes, config))).toBe(digest(await preprocess(upright, config)));
  });
});
