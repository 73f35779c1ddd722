/**
 * The native JPEG decoder returns exactly libjpeg-turbo's pixels (as libvips decodes them for sharp) for
 * every sequential or progressive file it accepts, and declines everything else, which then decodes through libvips as
 * before; decoding fused with the resize gives exactly the bytes of the two steps apart, in every EXIF
 * orientation. Speed is measured by `npm run bench:embedder`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeRgb } from '../../embedder/image/decode.ts';
import { centerCropPlacement, resizedSize } from '../../embedder/image/geometry.ts';
import { decodeJpegNative, decodeJpegResized } from '../../embedder/image/jpeg-native.ts';
import { parseHfPreprocessorConfig, preprocess } from '../../embedder/image/index.ts';
import { toChwTensor } from '../../embedder/image/tensor.ts';
import { probeImage, uprightSize } from '../../embedder/image/probe.ts';
import { implementations, type RgbImage } from '../../native/index.ts';
import { cjpeg, cjpegAvailable } from '../support/cjpeg.ts';
import { temporaryDirectory } from '../support/files.ts';
import { photoJpeg, photoRgb } from '../support/photo.ts';

const LIMIT = 100_000_000;
const { fallback } = implementations;

async function native(bytes: Uint8Array) {
  return decodeJpegNative(bytes, await probeImage(bytes, LIMIT), LIMIT);
}

/** The reference: libvips (libjpeg-turbo) decoding, as preprocessing does for every file the native decoder declines. */
async function libvips(bytes: Uint8Array): Promise<RgbImage> {
  return decodeRgb(bytes, await probeImage(bytes, LIMIT), LIMIT);
}

/** Bitwise equality, with the first differing pixel as the message (vitest's own diff of megabytes is unusable). */
function expectSamePixels(got: RgbImage, want: RgbImage): void {
  expect([got.width, got.height]).toEqual([want.width, want.height]);
  const a = Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength);
  const b = Buffer.from(want.data.buffer, want.data.byteOffset, want.data.byteLength);
  if (a.equals(b)) return;
  const i = a.findIndex((v, k) => v !== b[k]);
  const pixel = Math.floor(i / 3);
  expect.fail(`pixel (${pixel % want.width}, ${Math.floor(pixel / want.width)}) channel ${i % 3}: ${a[i]} instead of ${b[i]}`);
}

async function expectDecodedLikeLibjpeg(bytes: Uint8Array): Promise<void> {
  const decoded = await native(bytes);
  if ('declined' in decoded) expect.fail(`declined: ${decoded.declined}`);
  expectSamePixels(decoded, await libvips(bytes));
}

describe.skipIf(!implementations.native)('native JPEG decoding (sharp-encoded files)', () => {
  const sizes: [number, number][] = [[16, 16], [17, 31], [333, 251], [640, 480], [1001, 23]];
  for (const [width, height] of sizes) {
    for (const chromaSubsampling of ['4:2:0', '4:4:4'] as const) {
      it(`${width} x ${height}, ${chromaSubsampling}, qualities 30 to 100: libjpeg's pixels exactly`, async () => {
        for (const quality of [30, 75, 95, 100]) {
          const bytes = await sharp(photoRgb(width, height, quality), { raw: { width, height, channels: 3 } })
            .jpeg({ quality, chromaSubsampling })
            .toBuffer();
          await expectDecodedLikeLibjpeg(bytes);
        }
      });
    }
  }

  it('greyscale', async () => {
    const bytes = await sharp(photoRgb(300, 200, 1), { raw: { width: 300, height: 200, channels: 3 } }).greyscale().jpeg().toBuffer();
    await expectDecodedLikeLibjpeg(bytes);
  });

  it('progressive, as libjpeg and mozjpeg (its own scan script) write it, 4:2:0 and 4:4:4', async () => {
    for (const [width, height] of [[17, 31], [333, 251], [640, 480]] as const) {
      const image = sharp(photoRgb(width, height, 5), { raw: { width, height, channels: 3 } });
      for (const chromaSubsampling of ['4:2:0', '4:4:4']) {
        for (const quality of [40, 90, 100]) await expectDecodedLikeLibjpeg(await image.clone().jpeg({ progressive: true, quality, chromaSubsampling }).toBuffer());
      }
      await expectDecodedLikeLibjpeg(await image.clone().jpeg({ mozjpeg: true }).toBuffer());
    }
  });

  it('decodes with several threads exactly as with one', async () => {
    const bytes = await sharp(photoRgb(1200, 900, 3), { raw: { width: 1200, height: 900, channels: 3 } }).jpeg().toBuffer();
    const one = await implementations.native!.decodeJpegRgbAsync(bytes, { maxPixels: LIMIT, threads: 1 });
    for (const threads of [2, 3, 7]) {
      const many = await implementations.native!.decodeJpegRgbAsync(bytes, { maxPixels: LIMIT, threads });
      if ('declined' in one || 'declined' in many) expect.fail('declined');
      expectSamePixels(many, one);
    }
  });
});

describe.skipIf(!implementations.native)('decoding fused with the resize', () => {
  /** The fused decode against libvips' decode then the TypeScript Pillow resize (the fallback's), for one geometry. */
  async function expectFusedLikeTwoSteps(bytes: Uint8Array, shortestEdge: number, crop: number | null) {
    const header = await probeImage(bytes, LIMIT);
    const size = resizedSize(uprightSize(header), { kind: 'shortestEdge', shortestEdge });
    const region = crop ? centerCropPlacement(size, { width: crop, height: crop }).source : { left: 0, top: 0, ...size };
    const fused = await decodeJpegResized(bytes, header, { maxPixels: LIMIT, resize: { ...size, filter: 'bicubic' }, region });
    if ('declined' in fused) expect.fail(`declined: ${fused.declined}`);
    expectSamePixels(fused, await fallback.resizeRgbAsync(await libvips(bytes), size.width, size.height, 'bicubic', region));
  }

  const jpeg = (width: number, height: number, options: { orientation?: number; chromaSubsampling?: string } = {}) =>
    photoJpeg(width, height, { seed: width + height, chromaSubsampling: options.chromaSubsampling ?? '4:2:0', orientation: options.orientation ?? 1 });

  it('landscape, portrait and square photos, shrunk and centre-cropped as CLIP does', async () => {
    for (const [width, height] of [[1600, 1200], [900, 1400], [500, 500], [641, 479]] as const) {
      await expectFusedLikeTwoSteps(await jpeg(width, height), 224, 224);
    }
  });

  it('small images upscaled, and an image already at the target width (no horizontal pass)', async () => {
    await expectFusedLikeTwoSteps(await jpeg(100, 80), 224, 224);
    await expectFusedLikeTwoSteps(await jpeg(224, 300), 224, 224);
    await expectFusedLikeTwoSteps(await jpeg(300, 224, { chromaSubsampling: '4:4:4' }), 224, null);
  });

  it('a progressive photo', async () => {
    const bytes = await sharp(photoRgb(900, 700, 3), { raw: { width: 900, height: 700, channels: 3 } }).jpeg({ progressive: true }).toBuffer();
    await expectFusedLikeTwoSteps(bytes, 224, 224);
  });

  it('the mirrored and upside-down EXIF orientations (2, 3, 4)', async () => {
    for (const orientation of [2, 3, 4]) await expectFusedLikeTwoSteps(await jpeg(700, 500, { orientation }), 224, 224);
  });

  it('the rotating EXIF orientations (5-8), resampled down the stored columns', async () => {
    for (const orientation of [5, 6, 7, 8]) {
      await expectFusedLikeTwoSteps(await jpeg(700, 500, { orientation }), 224, 224);
      await expectFusedLikeTwoSteps(await jpeg(333, 451, { orientation }), 224, 224);
    }
    // No horizontal pass (upright width already 224), and no crop.
    await expectFusedLikeTwoSteps(await jpeg(300, 224, { orientation: 6 }), 224, 224);
    await expectFusedLikeTwoSteps(await jpeg(260, 180, { orientation: 8 }), 224, null);
  });

  it('declines a file whose size is not the probed header\'s', async () => {
    const bytes = await jpeg(64, 48);
    const header = await probeImage(bytes, LIMIT);
    const resize = { width: 32, height: 24, filter: 'bicubic' } as const;
    const wrongSize = await decodeJpegResized(bytes, { ...header, width: 65 }, { maxPixels: LIMIT, resize, region: { left: 0, top: 0, width: 32, height: 24 } });
    expect(wrongSize).toEqual({ declined: 'size differs from the probed header' });
  });
});

describe.skipIf(!implementations.native || !cjpegAvailable())('native JPEG decoding (libjpeg-turbo cjpeg files)', () => {
  const width = 203;
  const height = 117;
  const rgb = photoRgb(width, height, 7);
  const accepted: [string, string[]][] = [
    ['4:2:2 (2x1) sampling', ['-sample', '2x1']],
    ['4:2:0 with optimised Huffman tables', ['-optimize']],
    ['a restart marker every MCU row', ['-restart', '1']],
    ['a restart marker every 5 MCUs', ['-restart', '5B']],
    ['4:2:2 with restarts every 3 MCUs and quality 100', ['-sample', '2x1', '-restart', '3B', '-quality', '100']],
    ['16-bit quantisation tables (quality 5, baseline off)', ['-quality', '5']],
    ['4:4:4 with every component at 2x1', ['-sample', '2x1,2x1,2x1']],
    ['progressive', ['-progressive']],
    ['progressive 4:2:2 with restarts every 3 MCUs', ['-progressive', '-sample', '2x1', '-restart', '3B']],
    ['progressive with a restart marker every MCU row, quality 100', ['-progressive', '-restart', '1', '-quality', '100']],
    ['progressive optimised', ['-progressive', '-optimize']],
  ];
  for (const [name, args] of accepted) {
    it(`${name}: libjpeg's pixels exactly`, async () => {
      await expectDecodedLikeLibjpeg(cjpeg(rgb, width, height, args));
    });
  }

  it('greyscale with restart markers, sequential and progressive', async () => {
    const grey = Buffer.alloc(width * height);
    for (let i = 0; i < grey.length; i++) grey[i] = rgb[i * 3]!;
    await expectDecodedLikeLibjpeg(cjpeg(grey, width, height, ['-restart', '2B'], 1));
    await expectDecodedLikeLibjpeg(cjpeg(grey, width, height, ['-progressive', '-restart', '2B'], 1));
  });

  /** A progressive file with the given scan script (cjpeg -scans). */
  const withScans = (script: string) => {
    const file = join(temporaryDirectory('scans-', 'test'), 'scans.txt');
    writeFileSync(file, script);
    return cjpeg(rgb, width, height, ['-scans', file]);
  };

  it('progressive with spectral selection only, the high frequencies never sent: exact', async () => {
    await expectDecodedLikeLibjpeg(withScans('0,1,2: 0-0, 0, 0;\n0: 1-9, 0, 0;\n1: 1-9, 0, 0;\n2: 1-9, 0, 0;\n'));
  });

  it('progressive with refinement left unfinished: declined, since libjpeg smooths such blocks', async () => {
    const bytes = withScans('0,1,2: 0-0, 0, 1;\n0: 1-63, 0, 1;\n1: 1-63, 0, 1;\n2: 1-63, 0, 1;\n');
    expect(await native(bytes)).toEqual({ declined: 'progressive refinement left incomplete' });
  });

  const declined: [string, string[], RegExp][] = [
    ['arithmetic coding', ['-arithmetic'], /arithmetic/],
    ['4:4:0 (1x2) sampling', ['-sample', '1x2'], /subsampling/],
    ['RGB without colour transform', ['-rgb'], /Adobe transform/],
  ];
  for (const [name, args, reason] of declined) {
    it(`${name}: declined, and preprocessed through libvips instead`, async () => {
      const bytes = cjpeg(rgb, width, height, args);
      expect(await native(bytes)).toEqual({ declined: expect.stringMatching(reason) });
      const config = parseHfPreprocessorConfig({});
      const size = resizedSize({ width, height }, config.resize);
      const placement = centerCropPlacement(size, config.centerCrop);
      const resized = await fallback.resizeRgbAsync(await libvips(bytes), size.width, size.height, config.resample, placement.source);
      const viaLibvips = toChwTensor(resized, placement, config);
      expect(Buffer.from((await preprocess(bytes, config)).buffer).equals(Buffer.from(viaLibvips.buffer))).toBe(true);
    });
  }
});

describe.skipIf(!implementations.native)('native JPEG decoding of damaged files', () => {
  const width = 96;
  const height = 64;
  let clean: Buffer;
  const cleanFile = async () => (clean ??= await photoJpeg(width, height, { seed: 9 }));

  it('declines a file cut short, a file without EOI and a tiny image', async () => {
    const bytes = await cleanFile();
    expect(await native(bytes.subarray(0, bytes.length - 200))).toEqual({ declined: expect.any(String) });
    expect(await native(bytes.subarray(0, bytes.length - 2))).toEqual({ declined: 'no EOI marker' });
    const tiny = await sharp(photoRgb(8, 8, 1), { raw: { width: 8, height: 8, channels: 3 } }).jpeg().toBuffer();
    expect(await native(tiny)).toEqual({ declined: 'smaller than 16 pixels' });
  });

  it('declines what is over the pixel limit instead of allocating it', async () => {
    const bytes = await cleanFile();
    const decoded = await implementations.native!.decodeJpegRgbAsync(bytes, { maxPixels: width * height - 1 });
    expect(decoded).toEqual({ declined: 'over the pixel limit' });
  });

  it.each(['sequential', 'progressive'])('%s: on 400 corrupted copies, either declines or agrees with libjpeg, and never crashes', async (kind) => {
    const bytes = kind === 'sequential' ? await cleanFile() : await sharp(await cleanFile()).jpeg({ progressive: true, quality: 90 }).toBuffer();
    let state = 42;
    const random = (n: number) => ((state = (state * 1103515245 + 12345) >>> 0) >>> 8) % n;
    let agreed = 0;
    for (let trial = 0; trial < 400; trial++) {
      const damaged = Buffer.from(bytes);
      // Headers (quantisation and Huffman tables, frame, scan) and entropy-coded data alike.
      for (let flips = 1 + random(3); flips > 0; flips--) {
        const at = 2 + random(damaged.length - 2);
        damaged[at] = damaged[at]! ^ (1 << random(8));
      }
      const decoded = await decodeJpegNative(damaged, { format: 'jpeg', width, height, cmyk: false, grey16: false, orientation: 1 }, LIMIT);
      if ('declined' in decoded) continue;
      const reference = await libvips(damaged).catch(() => null);
      if (!reference) continue; // libjpeg refused it; decodeRgb would have raised the same error
      expectSamePixels(decoded, reference);
      agreed++;
    }
    console.log(`${kind}: ${agreed} of 400 corrupted files decoded natively, all identical to libjpeg`);
    expect(agreed).toBeGreaterThan(0);
  });
});
