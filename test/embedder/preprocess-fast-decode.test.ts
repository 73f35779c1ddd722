// decode: 'fast' trades Pillow's exact pixels for JPEG shrink-on-load on
// large photos; it must stay close to the exact tensor and change nothing else.
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseHfPreprocessorConfig, preprocess } from '../../embedder/image/index.ts';
import { photoJpeg } from '../support/photo.ts';
import { cosine } from '../support/vectors.ts';

const config = parseHfPreprocessorConfig({});

describe("preprocess with decode: 'fast'", () => {
  let large: Uint8Array;
  let rotated: Uint8Array;
  let small: Uint8Array;
  beforeAll(async () => {
    [large, rotated, small] = await Promise.all([photoJpeg(2400, 1800), photoJpeg(1800, 2400, { orientation: 6 }), photoJpeg(640, 480)]);
  });

  it('stays within cosine 0.999 of the exact tensor on a large JPEG', async () => {
    const [exact, fast] = await Promise.all([preprocess(large, config), preprocess(large, config, { decode: 'fast' })]);
    expect(fast.length).toBe(exact.length);
    expect(cosine(exact, fast)).toBeGreaterThan(0.999);
    expect(exact).not.toEqual(fast); // it did take the shrink-on-load path
  });

  it('keeps EXIF orientation and the exact geometry', async () => {
    const [exact, fast] = await Promise.all([preprocess(rotated, config), preprocess(rotated, config, { decode: 'fast' })]);
    expect(cosine(exact, fast)).toBeGreaterThan(0.999);
  });

  it('leaves images too small to shrink bit-identical', async () => {
    expect(await preprocess(small, config, { decode: 'fast' })).toEqual(await preprocess(small, config));
  });
});
