import { describe, expect, it } from 'vitest';
import { resizeRgb, resizeRgbAsync, type RgbImage } from '../../embedder/image/resample.ts';
import { pillowCoefficients, type ResampleFilter } from '../../embedder/image/pillow-coefficients.ts';
import { addon } from '../../native/addon.ts';
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

describe.skipIf(!addon)('native Pillow resampling', () => {
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
      const got = await resizeRgbAsync(image, ow, oh, filter, region);
      expect(got.width).toBe(region.width);
      expect(Buffer.from(got.data).equals(Buffer.from(expected.data))).toBe(true);
    }
  });

  it('same size: copies the region', async () => {
    const image = randomImage(50, 40, 1);
    const got = await resizeRgbAsync(image, 50, 40, 'bicubic', { left: 5, top: 6, width: 10, height: 7 });
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
