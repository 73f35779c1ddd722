/**
 * native/'s image API on both implementations: the tensor packing gives the same floats, and without
 * the addon every JPEG is declined (its callers decode it another way). The decoder's pixels are
 * tested in test/embedder/jpeg-decoder.test.ts, the resampler in resample.test.ts.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { addon } from '../../native/addon.ts';
import { implementations, type RgbImage } from '../../native/index.ts';
import { seededRandom } from '../support/random.ts';

const { native, fallback } = implementations;

function noise(width: number, height: number, seed: number): RgbImage {
  const random = seededRandom(seed);
  return { width, height, data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256)) };
}

/** Any three 256-entry tables: each channel's values distinct, so a misplaced byte shows. */
function randomTables(seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: 3 * 256 }, (_, i) => i + random());
}

const jpeg = (width: number, height: number) =>
  sharp(noise(width, height, 3).data, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();

describe.skipIf(!native)('rgbToChw', () => {
  it('native gives the TypeScript twin’s tensor, padded or not', () => {
    const tables = randomTables(7);
    for (const [width, height, outWidth, outHeight, left, top] of [
      [224, 224, 224, 224, 0, 0],
      [100, 50, 224, 224, 62, 87],
      [224, 101, 224, 224, 0, 62],
      [17, 224, 224, 224, 104, 0],
      [1, 1, 224, 224, 112, 112],
    ] as const) {
      const image = noise(width, height, width + height);
      const placement = { output: { width: outWidth, height: outHeight }, left, top };
      expect(native!.rgbToChw(image, placement, tables)).toEqual(fallback.rgbToChw(image, placement, tables));
    }
  });

  it('the addon refuses pixels that do not fit the output', () => {
    const tables = randomTables(1);
    const rgb = new Uint8Array(10 * 10 * 3);
    expect(() => addon!.rgbToChw(rgb, 10, 10, tables, 10, 10, 1, 0)).toThrow(RangeError);
    expect(() => addon!.rgbToChw(rgb, 10, 9, tables, 10, 10, 0, 0)).toThrow('rgb length must be width * height * 3');
    expect(() => addon!.rgbToChw(rgb, 10, 10, tables.subarray(1), 10, 10, 0, 0)).toThrow('3 * 256');
    expect(() => addon!.rgbToChw(rgb as unknown as Uint8Array, 10, 10, new Float64Array(768) as unknown as Float32Array, 10, 10, 0, 0)).toThrow(TypeError);
  });
});

describe('JPEG decoding', () => {
  const resize = { width: 32, height: 24, filter: 'bicubic' } as const;

  it('the fallback declines every file, saying why', async () => {
    const bytes = await jpeg(64, 48);
    const declined = { declined: 'native addon not loaded' };
    expect(await fallback.decodeJpegRgbAsync(bytes)).toEqual(declined);
    expect(await fallback.decodeJpegResizedAsync(bytes, { storedSize: { width: 64, height: 48 }, resize })).toEqual(declined);
  });

  it.skipIf(!native)('native: decoding fused with the resize gives the bytes of the two steps apart', async () => {
    const bytes = await jpeg(64, 48);
    const whole = await native!.decodeJpegRgbAsync(bytes, { maxPixels: 64 * 48, threads: 2 });
    if ('declined' in whole) expect.fail(`declined: ${whole.declined}`);
    const region = { left: 4, top: 0, width: 24, height: 24 };
    const fused = await native!.decodeJpegResizedAsync(bytes, { storedSize: { width: 64, height: 48 }, resize, region, threads: 2 });
    if ('declined' in fused) expect.fail(`declined: ${fused.declined}`);
    const twoSteps = await fallback.resizeRgbAsync(whole, resize.width, resize.height, resize.filter, region);
    expect([fused.width, fused.height]).toEqual([24, 24]);
    expect(Buffer.from(fused.data).equals(Buffer.from(twoSteps.data))).toBe(true);
  });

  it.skipIf(!native)('native declines what is over maxPixels', async () => {
    expect(await native!.decodeJpegRgbAsync(await jpeg(64, 48), { maxPixels: 64 * 48 - 1 })).toEqual({ declined: 'over the pixel limit' });
  });

  it.skipIf(!native)('the addon refuses tables that would read outside the image, before decoding', async () => {
    const bytes = await jpeg(64, 48);
    expect(() => addon!.decodeJpegResizedAsync(bytes, 100_000_000, 1, 1, 64, 48, null, null, 10, 0, 60, 48)).toThrow(/outside the image/);
    // Through the API the same refusal is a rejection, like every promise-returning call's argument errors.
    const outside = { storedSize: { width: 64, height: 48 }, resize: { ...resize, width: 64, height: 48 }, region: { left: 10, top: 0, width: 60, height: 48 } };
    await expect(native!.decodeJpegResizedAsync(bytes, outside)).rejects.toThrow(/outside the image/);
  });
});
