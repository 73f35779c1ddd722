/**
 * Why a large JPEG is decoded at full size: libjpeg's shrink-on-load (DCT scaling) is fast but changes
 * the result. Preprocessing speed is measured by `npm run bench:embedder`, not here.
 */
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseHfPreprocessorConfig, preprocess } from '../../embedder/image/index.ts';
import { centerCropPlacement, resizedSize } from '../../embedder/image/geometry.ts';
import { toChwTensor } from '../../embedder/image/tensor.ts';
import { implementations } from '../../native/index.ts';
import { photoJpeg } from '../support/photo.ts';

const config = parseHfPreprocessorConfig({});

describe('decoding a large JPEG', () => {
  let large: Buffer;
  beforeAll(async () => {
    large = await photoJpeg(4000, 3000);
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
    const pixels = await implementations.fallback.resizeRgbAsync(shrunk, target.width, target.height, config.resample, placement.source);
    const approximate = toChwTensor(pixels, placement, config);
    let maxAbs = 0;
    for (let i = 0; i < exact.length; i++) maxAbs = Math.max(maxAbs, Math.abs(exact[i]! - approximate[i]!));
    console.log(`shrink-on-load x2 then Pillow resize: max |diff| ${maxAbs.toFixed(4)} against the full decode`);
    expect(maxAbs).toBeGreaterThan(0.01);
  });
});
