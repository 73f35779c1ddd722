/**
 * Pillow's resampler: the coefficient tables and the TypeScript port's properties that the
 * reference-tensor tests rely on, and the addon's resampler giving exactly the port's bytes.
 */
import { describe, expect, it } from 'vitest';
import { addon } from '../../native/addon.ts';
import { implementations, type ResampleFilter, type RgbImage } from '../../native/index.ts';
import { PRECISION_BITS, pillowCoefficients } from '../../native/pillow-coefficients.ts';
import { resizeRgb } from '../../native/resample.ts';
import { seededRandom } from '../support/random.ts';

function randomImage(width: number, height: number, seed: number): RgbImage & { data: Uint8Array } {
  const random = seededRandom(seed);
  const data = new Uint8Array(width * height * 3);
  // Smooth content plus noise, so both flat and busy areas are exercised.
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.min(255, ((x * (c + 1) + y * 3) % 200) + Math.floor(random() * 56));
  return { data, width, height };
}

function noise(width: number, height: number, seed = 1): RgbImage {
  const random = seededRandom(seed);
  return { width, height, data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256)) };
}

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

  it('the fallback\'s resizeRgbAsync is this resampler', async () => {
    const image = noise(451, 300);
    const region = { left: 56, top: 0, width: 224, height: 224 };
    expect(await implementations.fallback.resizeRgbAsync(image, 336, 224, 'bicubic', region)).toEqual(resizeRgb(image, 336, 224, 'bicubic', region));
  });
});

const native = implementations.native;

describe.skipIf(!native)('native Pillow resampling', () => {
  const cases: [number, number, number, number, ResampleFilter][] = [
    [640, 480, 298, 224, 'bicubic'],
    [451, 300, 336, 224, 'bicubic'],
    [17, 13, 298, 224, 'bicubic'], // upscale
    [3, 500, 224, 37333, 'bicubic'],
    [1000, 667, 335, 224, 'lanczos'],
    [300, 300, 224, 224, 'bilinear'],
    [224, 500, 224, 100, 'bicubic'], // vertical only
    [500, 224, 100, 224, 'box'], // horizontal only
  ];

  it.each(cases)('%ix%i → %ix%i (%s) gives exactly the TypeScript port\'s bytes, whole and cropped', async (w, h, ow, oh, filter) => {
    const image = randomImage(w, h, w * 31 + h);
    const regions = [
      { left: 0, top: 0, width: ow, height: Math.min(oh, 300) },
      { left: Math.floor((ow - Math.min(ow, 224)) / 2), top: Math.floor((Math.min(oh, 300) - Math.min(oh, 224)) / 2), width: Math.min(ow, 224), height: Math.min(oh, 224) },
    ];
    for (const region of regions) {
      const expected = resizeRgb(image, ow, oh, filter, region);
      const got = await native!.resizeRgbAsync(image, ow, oh, filter, region);
      expect(got.width).toBe(region.width);
      expect(Buffer.from(got.data).equals(Buffer.from(expected.data))).toBe(true);
    }
  });

  it('same size: copies the region', async () => {
    const image = randomImage(50, 40, 1);
    const got = await native!.resizeRgbAsync(image, 50, 40, 'bicubic', { left: 5, top: 6, width: 10, height: 7 });
    expect(Buffer.from(got.data).equals(Buffer.from(resizeRgb(image, 50, 40, 'bicubic', { left: 5, top: 6, width: 10, height: 7 }).data))).toBe(true);
  });

  /** The upright image EXIF `orientation` (5-8) makes of a stored one, pixel by pixel. */
  function rotate(image: RgbImage & { data: Uint8Array }, orientation: number): RgbImage & { data: Uint8Array } {
    const { width: w, height: h } = image;
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < w; y++)
      for (let x = 0; x < h; x++) {
        const sx = orientation === 5 || orientation === 6 ? y : w - 1 - y;
        const sy = orientation === 5 || orientation === 8 ? x : h - 1 - x;
        data.set(image.data.subarray((sy * w + sx) * 3, (sy * w + sx) * 3 + 3), (y * h + x) * 3);
      }
    return { data, width: h, height: w };
  }

  it.each([5, 6, 7, 8])('orientation %i: resampling down the stored columns gives the bytes of rotating first', async (orientation) => {
    for (const [w, h, ow, oh, region] of [
      [480, 640, 298, 224, { left: 37, top: 0, width: 224, height: 224 }],
      [451, 300, 224, 336, { left: 0, top: 56, width: 224, height: 224 }],
      [13, 17, 224, 298, { left: 0, top: 0, width: 224, height: 298 }], // upscale
      [224, 300, 300, 224, { left: 38, top: 0, width: 224, height: 224 }], // vertical pass only
    ] as const) {
      const stored = randomImage(w, h, w + orientation);
      const expected = resizeRgb(rotate(stored, orientation), ow, oh, 'bicubic', region);
      const horizontal = ow !== h ? pillowCoefficients(h, ow, 'bicubic') : null;
      const vertical = oh !== w ? pillowCoefficients(w, oh, 'bicubic') : null;
      const got = await addon!.resampleRgbAsync(stored.data, w, h, horizontal, vertical, region.left, region.top, region.width, region.height, 2, orientation);
      expect(Buffer.from(got).equals(Buffer.from(expected.data))).toBe(true);
    }
  });

  it('rejects tables or regions that would read or write outside the image', () => {
    const image = randomImage(20, 10, 2);
    const h = pillowCoefficients(20, 8, 'bicubic');
    const bad = { ...h, first: h.first.map((f, i) => (i === 3 ? 19 : f)) };
    const call = (...args: Parameters<NonNullable<typeof addon>['resampleRgb']>) => () => addon!.resampleRgb(...args);
    expect(call(image.data, 20, 10, bad, null, 0, 0, 8, 10, 1)).toThrow(/reads outside the source image/);
    expect(call(image.data, 20, 10, h, null, 0, 0, 9, 10, 1)).toThrow(/shorter than the output/);
    expect(call(image.data, 20, 10, null, null, 15, 0, 10, 10, 1)).toThrow(/outside the image/);
    expect(call(image.data.subarray(1), 20, 10, h, null, 0, 0, 8, 10, 1)).toThrow(/width \* height \* 3/);
    expect(call(new Float32Array(600) as never, 20, 10, h, null, 0, 0, 8, 10, 1)).toThrow(TypeError);
    expect(call(image.data, 20, 10, h, null, 0, 0, 8, 10, 1, 3)).toThrow(/orientation must be 1 or 5-8/);
    // Rotated, the axes are checked against the upright size (10 wide): these tables are for 20.
    expect(call(image.data, 20, 10, h, null, 0, 0, 8, 10, 1, 6)).toThrow(/reads outside the source image/);
  });
});
