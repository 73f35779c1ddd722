/**
 * The geometry of transformers' resize and centre crop, and the crop's padding in the tensor. The Pillow
 * resampler and the tensor packing themselves are tested with native/ (test/native/resample.test.ts,
 * image.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { centerCropPlacement, resizedSize } from '../../embedder/image/geometry.ts';
import { toChwTensor } from '../../embedder/image/tensor.ts';
import { parseHfPreprocessorConfig } from '../../embedder/image/index.ts';
import type { RgbImage } from '../../native/index.ts';
import { seededRandom } from '../support/random.ts';

const SHORTEST_224 = { kind: 'shortestEdge', shortestEdge: 224 } as const;

function noise(width: number, height: number, seed = 1): RgbImage {
  const random = seededRandom(seed);
  return { width, height, data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256)) };
}

describe('resize output size (get_resize_output_image_size, default_to_square=False)', () => {
  it.each([
    [451, 300, 336, 224],
    [1000, 667, 335, 224],
    [300, 451, 224, 336],
    [600, 400, 336, 224],
    [320, 240, 298, 224],
    [224, 224, 224, 224],
    [1, 1, 224, 224],
    [50, 37, 302, 224],
  ])('%i x %i → %i x %i (long side truncated, not rounded)', (width, height, w, h) => {
    expect(resizedSize({ width, height }, SHORTEST_224)).toEqual({ width: w, height: h });
  });

  it('an exact size ignores the aspect ratio; no resize keeps the size', () => {
    expect(resizedSize({ width: 640, height: 480 }, { kind: 'exact', width: 256, height: 256 })).toEqual({ width: 256, height: 256 });
    expect(resizedSize({ width: 640, height: 480 }, null)).toEqual({ width: 640, height: 480 });
  });
});

describe('centre crop (transformers center_crop)', () => {
  const crop = { width: 224, height: 224 };

  it.each([
    [336, 56],
    [335, 55],
    [298, 37],
    [225, 0],
  ])('a %i-wide image is cropped from left = floor(margin / 2) = %i', (width, left) => {
    expect(centerCropPlacement({ width, height: 224 }, crop).source).toEqual({ left, top: 0, width: 224, height: 224 });
  });

  it('pads an image smaller than the crop with zeros, placed at ceil(margin / 2)', () => {
    expect(centerCropPlacement({ width: 101, height: 300 }, crop)).toEqual({
      output: crop,
      source: { left: 0, top: 38, width: 101, height: 224 },
      left: 62,
      top: 0,
    });
  });

  it('padding is pixel value 0 after rescale and normalise', () => {
    const config = parseHfPreprocessorConfig({ do_resize: false });
    const image = noise(100, 50);
    const placement = centerCropPlacement(image, config.centerCrop);
    const tensor = toChwTensor(image, placement, config);
    const zero = (c: number) => Math.fround(-Math.fround(config.normalize!.mean[c]!) / Math.fround(config.normalize!.std[c]!));
    expect(tensor[0]).toBe(zero(0));
    expect(tensor[224 * 224 * 2 + 224 * 224 - 1]).toBe(zero(2));
    // The first real pixel: row ceil(174/2) = 87, column 62.
    const first = image.data[0]!;
    expect(tensor[87 * 224 + 62]).toBe(Math.fround(Math.fround(Math.fround(first * config.rescaleFactor!) - Math.fround(config.normalize!.mean[0]!)) / Math.fround(config.normalize!.std[0]!)));
  });
});
