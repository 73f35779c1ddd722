/**
 * The geometry of transformers' resize and centre crop, and the properties of the Pillow resampler port
 * that the reference-tensor tests rely on.
 */
import { describe, expect, it } from 'vitest';
import { centerCropPlacement, resizedSize } from '../../embedder/image/geometry.ts';
import { PRECISION_BITS, pillowCoefficients } from '../../embedder/image/pillow-coefficients.ts';
import type { ResampleFilter } from '../../embedder/image/pillow-coefficients.ts';
import { resizeRgb } from '../../embedder/image/resample.ts';
import type { RgbImage } from '../../embedder/image/resample.ts';
import { channelTables, toChwTensor, toChwTensorScript } from '../../embedder/image/tensor.ts';
import { addon } from '../../native/addon.ts';
import { parseHfPreprocessorConfig } from '../../embedder/image/index.ts';
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

  it.skipIf(!addon)('the native packing gives the TypeScript twin’s tensor, padded or not', () => {
    const config = parseHfPreprocessorConfig({ do_resize: false });
    // Cropped pixels: the full output, or smaller and placed in the padding.
    for (const [width, height] of [[224, 224], [100, 50], [224, 101], [17, 224], [1, 1]] as const) {
      const image = noise(width, height, width + height);
      const placement = centerCropPlacement(image, config.centerCrop);
      expect(toChwTensor(image, placement, config)).toEqual(toChwTensorScript(image, placement, channelTables(config)));
    }
  });

  it.skipIf(!addon)('the native packing refuses pixels that do not fit the output', () => {
    const tables = channelTables(parseHfPreprocessorConfig({}));
    const rgb = new Uint8Array(10 * 10 * 3);
    expect(() => addon!.rgbToChw(rgb, 10, 10, tables, 10, 10, 1, 0)).toThrow(RangeError);
    expect(() => addon!.rgbToChw(rgb, 10, 9, tables, 10, 10, 0, 0)).toThrow('rgb length must be width * height * 3');
    expect(() => addon!.rgbToChw(rgb, 10, 10, tables.subarray(1), 10, 10, 0, 0)).toThrow('3 * 256');
    expect(() => addon!.rgbToChw(rgb as unknown as Uint8Array, 10, 10, new Float64Array(768) as unknown as Float32Array, 10, 10, 0, 0)).toThrow(TypeError);
  });
});

describe('Pillow resampling coefficients', () => {
  it('widen the kernel by the scale factor when downscaling (antialiasing)', () => {
    // Bicubic support 2: 2 * ceil(2 * 4000/298) + 1 taps when shrinking 13.4x, 2 * 2 + 1 when enlarging.
    expect(pillowCoefficients(4000, 298, 'bicubic').taps).toBe(55);
    expect(pillowCoefficients(50, 302, 'bicubic').taps).toBe(5);
  });

  it.each<ResampleFilter>(['bicubic', 'bilinear', 'lanczos', 'box', 'hamming'])(
    '%s weights of every output pixel sum to 1 in 22-bit fixed point, give or take rounding',
    (filter) => {
      for (const [from, to] of [[600, 336], [37, 224], [1000, 335]] as const) {
        const { taps, count, weights } = pillowCoefficients(from, to, filter);
        for (let i = 0; i < to; i++) {
          let sum = 0;
          for (let t = 0; t < count[i]!; t++) sum += weights[i * taps + t]!;
          expect(Math.abs(sum - (1 << PRECISION_BITS))).toBeLessThanOrEqual(taps);
        }
      }
    },
  );
});

describe('Pillow resampling of 8-bit RGB', () => {
  it('returns the pixels unchanged when the size does not change', () => {
    const image = noise(40, 30);
    expect(resizeRgb(image, 40, 30, 'bicubic').data).toEqual(Uint8ClampedArray.from(image.data));
  });

  it.each([
    [301, 199],
    [40, 30],
    [31, 300],
  ])('keeps a flat colour flat, resizing 97 x 61 to %i x %i', (width, height) => {
    const flat = { width: 97, height: 61, data: new Uint8Array(97 * 61 * 3).fill(173) };
    expect(resizeRgb(flat, width, height, 'bicubic').data.every((v) => v === 173)).toBe(true);
  });

  it('computing only a region gives exactly that crop of the full resize', () => {
    const image = noise(451, 300);
    const full = resizeRgb(image, 336, 224, 'bicubic');
    const region = { left: 56, top: 10, width: 200, height: 150 };
    const part = resizeRgb(image, 336, 224, 'bicubic', region);
    expect(part.width).toBe(200);
    for (let y = 0; y < region.height; y++) {
      const from = ((region.top + y) * 336 + region.left) * 3;
      expect(part.data.subarray(y * 600, y * 600 + 600)).toEqual(full.data.subarray(from, from + 600));
    }
  });

  it('resizes one axis only when only one changes', () => {
    const image = noise(100, 60);
    const wider = resizeRgb(image, 150, 60, 'bicubic');
    const taller = resizeRgb(image, 100, 90, 'bicubic');
    expect([wider.width, wider.height, taller.width, taller.height]).toEqual([150, 60, 100, 90]);
  });
});
