/**
 * Every accepted container decodes to a 3 x 224 x 224 tensor, whatever its colour mode, and the colour
 * conversions follow PIL rather than libvips: no ICC colour management, CMYK by PIL's formula.
 */
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { parseHfPreprocessorConfig, preprocess, sniffImageFormat } from '../../embedder/image/index.ts';
import { cmykToRgb, grey16ToRgb } from '../../embedder/image/pil-convert.ts';

const config = parseHfPreprocessorConfig({});
const PLANE = 224 * 224;

/** Bitwise equality, cheap to report (vitest's diff of two 150k-element arrays takes minutes). */
function identical(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** A 320 x 240 photo-like RGBA test card: gradients, edges and a half-transparent band. */
async function testCard(): Promise<Sharp> {
  const width = 320;
  const height = 240;
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      rgba[o] = (x * 255) / width;
      rgba[o + 1] = (y * 255) / height;
      rgba[o + 2] = ((x >> 4) + (y >> 4)) & 1 ? 220 : 30;
      rgba[o + 3] = y < 80 ? 255 : y < 160 ? 128 : 0;
    }
  }
  return sharp(rgba, { raw: { width, height, channels: 4 } });
}

const ENCODINGS: [string, (card: Sharp) => Promise<Buffer>][] = [
  ['JPEG', (c) => c.jpeg().toBuffer()],
  ['progressive JPEG 4:4:4', (c) => c.jpeg({ progressive: true, chromaSubsampling: '4:4:4' }).toBuffer()],
  ['greyscale JPEG', (c) => c.toColourspace('b-w').jpeg().toBuffer()],
  ['CMYK JPEG', (c) => c.toColourspace('cmyk').jpeg().toBuffer()],
  ['RGBA PNG', (c) => c.png().toBuffer()],
  ['palette PNG', (c) => c.png({ palette: true }).toBuffer()],
  ['16-bit PNG', (c) => c.toColourspace('rgb16').png().toBuffer()],
  ['lossy WebP with alpha', (c) => c.webp().toBuffer()],
  ['lossless WebP', (c) => c.webp({ lossless: true }).toBuffer()],
  ['GIF', (c) => c.gif().toBuffer()],
  ['TIFF', (c) => c.tiff().toBuffer()],
  ['CMYK TIFF', (c) => c.toColourspace('cmyk').tiff().toBuffer()],
  ['AVIF', (c) => c.avif({ quality: 60, effort: 0 }).toBuffer()],
];

describe('accepted formats', () => {
  it.each(ENCODINGS)('%s gives a finite 3 x 224 x 224 tensor', async (_name, encode) => {
    const bytes = await encode(await testCard());
    const tensor = await preprocess(bytes, config);
    expect(tensor).toBeInstanceOf(Float32Array);
    expect(tensor.length).toBe(3 * PLANE);
    expect(tensor.every(Number.isFinite)).toBe(true);
  });

  it('sniffs the format from the bytes', async () => {
    const card = await testCard();
    expect(sniffImageFormat(await card.clone().jpeg().toBuffer())).toBe('jpeg');
    expect(sniffImageFormat(await card.clone().png().toBuffer())).toBe('png');
    expect(sniffImageFormat(await card.clone().webp().toBuffer())).toBe('webp');
    expect(sniffImageFormat(await card.clone().gif().toBuffer())).toBe('gif');
    expect(sniffImageFormat(await card.clone().tiff().toBuffer())).toBe('tiff');
    expect(sniffImageFormat(await card.clone().avif({ effort: 0 }).toBuffer())).toBe('avif');
  });

  it('takes the first frame of an animation', async () => {
    const frame = (colour: string) => sharp({ create: { width: 64, height: 64, channels: 3, background: colour } });
    const animated = await sharp([await frame('#ff0000').png().toBuffer(), await frame('#0000ff').png().toBuffer()], {
      join: { animated: true },
    })
      .gif()
      .toBuffer();
    const tensor = await preprocess(animated, config);
    const red = await preprocess(await frame('#ff0000').gif().toBuffer(), config);
    expect(identical(tensor, red)).toBe(true);
  });
});

describe('colour conversion as PIL convert("RGB")', () => {
  it('CMYK uses R = 255-K - round((255-K)·C/255), values checked against Pillow 9.4', () => {
    const cmyk = Uint8Array.of(0, 0, 0, 0, 255, 255, 255, 255, 10, 200, 30, 40, 128, 64, 32, 16, 77, 77, 77, 128, 1, 254, 100, 3);
    expect([...cmykToRgb(cmyk, 6)]).toEqual([255, 255, 255, 0, 0, 0, 207, 46, 190, 119, 179, 209, 89, 89, 89, 251, 1, 153]);
  });

  it('16-bit grey clips to 255 like PIL mode "I", it does not keep the high byte', () => {
    expect([...grey16ToRgb(Uint16Array.of(0, 200, 255, 256, 65535), 5)]).toEqual([
      0, 0, 0, 200, 200, 200, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    ]);
  });

  it('a CMYK JPEG is converted by the formula, not through its ICC profile', async () => {
    const flat = sharp({ create: { width: 300, height: 300, channels: 3, background: '#4080c0' } });
    const bytes = await flat.toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
    const rawCmyk = await sharp(bytes, { ignoreIcc: true }).pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer();
    const [r, g, b] = cmykToRgb(rawCmyk.subarray(0, 4), 1);
    const managed = await sharp(bytes).raw().toBuffer();
    expect([r, g, b]).not.toEqual([managed[0], managed[1], managed[2]]);

    const tensor = await preprocess(bytes, config);
    const normalised = (v: number, c: number) =>
      Math.fround(Math.fround(Math.fround(v / 255) - Math.fround(config.normalize!.mean[c]!)) / Math.fround(config.normalize!.std[c]!));
    const centre = 112 * 224 + 112;
    [r!, g!, b!].forEach((v, c) => expect(tensor[c * PLANE + centre]).toBeCloseTo(normalised(v, c), 5));
  });

  it('an embedded ICC profile is ignored: the stored values are used as sRGB', async () => {
    const tagged = await (await testCard()).removeAlpha().withIccProfile('p3').png().toBuffer();
    expect((await sharp(tagged).metadata()).hasProfile).toBe(true);
    const stored = await sharp(tagged, { ignoreIcc: true }).raw().toBuffer({ resolveWithObject: true });
    const untagged = await sharp(stored.data, { raw: stored.info }).png().toBuffer();
    const managed = await sharp(await sharp(tagged).raw().toBuffer(), { raw: stored.info }).png().toBuffer();

    const tensor = await preprocess(tagged, config);
    expect(identical(tensor, await preprocess(untagged, config))).toBe(true);
    expect(identical(tensor, await preprocess(managed, config))).toBe(false);
  });
});
