/**
 * Preprocessing cost for a phone-sized and a webcam-sized JPEG (printed), and why the JPEG is decoded at
 * full size: libjpeg's shrink-on-load (DCT scaling) is fast but changes the result.
 */
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseHfPreprocessorConfig, preprocess } from '../../embedder/image/index.ts';
import { centerCropPlacement, resizedSize } from '../../embedder/image/geometry.ts';
import { resizeRgb } from '../../embedder/image/resample.ts';
import { toChwTensor } from '../../embedder/image/tensor.ts';

const config = parseHfPreprocessorConfig({});

/** A photo-like JPEG: smooth gradients with fine texture, so that it compresses like a real picture. */
async function photoJpeg(width: number, height: number): Promise<Buffer> {
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const texture = ((x * 7919) ^ (y * 104729)) & 31;
      rgb[o] = ((x / width) * 200 + texture) | 0;
      rgb[o + 1] = ((y / height) * 200 + texture) | 0;
      rgb[o + 2] = (((x + y) / (width + height)) * 160 + 40 + (texture >> 1)) | 0;
    }
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

async function medianMs(run: () => Promise<unknown>, repeats: number): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(repeats / 2)]!;
}

describe('preprocessing time', () => {
  let small: Buffer;
  let large: Buffer;
  beforeAll(async () => {
    small = await photoJpeg(640, 480);
    large = await photoJpeg(4000, 3000);
  });

  it('640 x 480 JPEG', async () => {
    const ms = await medianMs(() => preprocess(small, config), 5);
    console.log(`640x480 JPEG: ${ms.toFixed(1)} ms`);
    // Loose bounds: the machines running this are shared; typical is ~10 ms.
    expect(ms).toBeLessThan(250);
  });

  it('4000 x 3000 JPEG, fully decoded', async () => {
    const ms = await medianMs(() => preprocess(large, config), 3);
    console.log(`4000x3000 JPEG: ${ms.toFixed(1)} ms`);
    // Typical is ~200 ms: ~50 ms decoding, the rest the 13x bicubic shrink of the cropped columns.
    expect(ms).toBeLessThan(4000);
  });

  it('JPEG shrink-on-load is not used: even halving while decoding moves the tensor visibly', async () => {
    const exact = await preprocess(large, config);
    const { data, info } = await sharp(large)
      .resize(2000, 1500, { fit: 'fill', fastShrinkOnLoad: true, kernel: 'nearest' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const shrunk = { data, width: info.width, height: info.height };
    const target = resizedSize({ width: 4000, height: 3000 }, config.resize);
    const placement = centerCropPlacement(target, config.centerCrop);
    const pixels = resizeRgb(shrunk, target.width, target.height, config.resample, placement.source);
    const approximate = toChwTensor(pixels, placement, config);
    let maxAbs = 0;
    for (let i = 0; i < exact.length; i++) maxAbs = Math.max(maxAbs, Math.abs(exact[i]! - approximate[i]!));
    console.log(`shrink-on-load x2 then Pillow resize: max |diff| ${maxAbs.toFixed(4)} against the full decode`);
    expect(maxAbs).toBeGreaterThan(0.01);
  });
});
