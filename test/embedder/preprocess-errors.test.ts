/**
 * Untrusted bytes fail with typed errors that carry the HTTP status to answer with: 415 for what is not
 * a supported image (whatever its name or Content-Type), 400 for empty or broken images, 413 for images
 * whose header declares more pixels than allowed — rejected from the header, before decoding.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  CorruptImageError,
  ImageInputError,
  ImageTooLargeError,
  parseHfPreprocessorConfig,
  preprocess,
  UnsupportedImageFormatError,
} from '../../embedder/image/index.ts';
import { photoJpeg } from '../support/photo.ts';
import { pngChunk } from '../support/png.ts';

const config = parseHfPreprocessorConfig({});


/** A PNG whose IHDR says width x height, followed by a tiny IDAT: a decompression bomb's header. */
function pngHeader(width: number, height: number, withData = true): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!withData) return Buffer.concat([signature, pngChunk('IHDR', ihdr)]);
  return Buffer.concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(Buffer.alloc(64))), pngChunk('IEND', Buffer.alloc(0))]);
}

async function rejection(bytes: Uint8Array, options = {}): Promise<ImageInputError> {
  const error = await preprocess(bytes, config, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImageInputError);
  return error as ImageInputError;
}

describe('unsupported formats → UnsupportedImageFormatError (415)', () => {
  it.each([
    ['plain text', Buffer.from('hello, this is not an image\n')],
    ['random bytes', Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 131 + 7) & 255))],
    ['SVG (sharp could render it; the API must not)', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')],
    ['BMP', Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)])],
    ['HEIC (ISO-BMFF without an AVIF brand)', Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic')])],
  ])('%s', async (_name, bytes) => {
    const error = await rejection(bytes);
    expect(error).toBeInstanceOf(UnsupportedImageFormatError);
    expect(error.status).toBe(415);
    expect(error.code).toBe('unsupported_image_format');
  });

  it('a text file named .png: the name is never trusted, the bytes are sniffed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'preprocess-'));
    try {
      const file = join(dir, 'photo.png');
      writeFileSync(file, 'definitely a photo, trust me');
      const error = await rejection(readFileSync(file));
      expect(error).toBeInstanceOf(UnsupportedImageFormatError);
      expect(error.message).toMatch(/first bytes: 64 65 66/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('empty or broken images → CorruptImageError (400)', () => {
  it('zero bytes', async () => {
    const error = await rejection(new Uint8Array(0));
    expect(error).toBeInstanceOf(CorruptImageError);
    expect(error.status).toBe(400);
    expect(error.code).toBe('corrupt_image');
    expect(error.message).toMatch(/empty/);
  });

  it('a JPEG cut in the middle of its pixel data', async () => {
    const whole = await photoJpeg(640, 480);
    const error = await rejection(whole.subarray(0, Math.floor(whole.length / 2)));
    expect(error).toBeInstanceOf(CorruptImageError);
  });

  it('a JPEG cut inside its header', async () => {
    expect(await rejection((await photoJpeg(64, 64)).subarray(0, 20))).toBeInstanceOf(CorruptImageError);
  });

  it('a PNG cut in the middle of its pixel data', async () => {
    const whole = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#123456' } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    expect(await rejection(whole.subarray(0, Math.floor(whole.length / 2)))).toBeInstanceOf(CorruptImageError);
  });

  it('a GIF cut in the middle of its pixel data', async () => {
    const whole = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#808000' } })
      .gif()
      .toBuffer();
    expect(await rejection(whole.subarray(0, whole.length - 40))).toBeInstanceOf(CorruptImageError);
  });

  it('the PNG signature followed by garbage', async () => {
    const bytes = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('garbage!')]);
    expect(await rejection(bytes)).toBeInstanceOf(CorruptImageError);
  });
});

describe('decompression bombs → ImageTooLargeError (413), from the header alone', () => {
  it('a 50,000 x 50,000 PNG header is rejected at once, naming the limit', async () => {
    const started = performance.now();
    const error = await rejection(pngHeader(50_000, 50_000));
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect(error.status).toBe(413);
    expect(error.code).toBe('image_too_large');
    expect(error.message).toMatch(/50000x50000/);
    expect(error.message).toMatch(/maxPixels = 67108864/);
    // Decoding 7.5 GB of RGB would take far longer than this (it takes about 2 ms), if it did not run out of memory first.
    expect(elapsed).toBeLessThan(10_000);
  });

  it('even when nothing follows the header', async () => {
    expect(await rejection(pngHeader(50_000, 50_000, false))).toBeInstanceOf(ImageTooLargeError);
  });

  it('the limit is configurable and applies to every format', async () => {
    const error = (await rejection(await photoJpeg(640, 480), { maxPixels: 100_000 })) as ImageTooLargeError;
    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect([error.width, error.height, error.maxPixels]).toEqual([640, 480, 100_000]);
    expect(error.message).toMatch(/maxPixels = 100000/);
    await expect(preprocess(await photoJpeg(640, 480), config, { maxPixels: 640 * 480 })).resolves.toHaveLength(3 * 224 * 224);
  });

  it('a JPEG whose frame header declares 60,000 x 60,000', async () => {
    const bytes = Buffer.from(await photoJpeg(16, 16));
    // SOF0 marker: FF C0, length (2), precision (1), height (2), width (2).
    const sof = bytes.indexOf(Buffer.from([0xff, 0xc0]));
    expect(sof).toBeGreaterThan(0);
    bytes.writeUInt16BE(60_000, sof + 5);
    bytes.writeUInt16BE(60_000, sof + 7);
    const error = await rejection(bytes);
    expect(error).toBeInstanceOf(ImageTooLargeError);
  });

  it('a GIF whose frame lies far outside its logical screen', async () => {
    // Screen 1x1, frame at (60000, 60000): Pillow grows the canvas to hold the frame.
    const gif = Buffer.from([
      ...Buffer.from('GIF89a'), 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255,
      0x2c, 0x60, 0xea, 0x60, 0xea, 1, 0, 1, 0, 0, 2, 2, 0x4c, 0x01, 0, 0x3b,
    ]);
    expect(await rejection(gif)).toBeInstanceOf(ImageTooLargeError);
  });
});
