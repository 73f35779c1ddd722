/**
 * What the fuzzers (native/fuzz/, `npm run fuzz`) found, replayed through the real addon: every file in
 * fuzz-regressions/jpeg/ either declines or decodes (whole, resized, in every mirroring orientation),
 * never crashes, and the named ones give the answer their fix gives; the resampler's and the tensor
 * packer's findings as the JavaScript calls that reached them. The raw fuzzer inputs beside them
 * (*.bin) are replayed by the fuzz targets themselves on every `npm run fuzz`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addon } from '../../native/addon.ts';
import type { Coefficients } from '../../native/pillow-coefficients.ts';
import { seededRandom } from '../support/random.ts';

const REGRESSIONS = join(import.meta.dirname, 'fuzz-regressions');
const native = addon!;

/** The frame size from the first SOF0/1/2 marker, as the embedder's probe reads it; null without one. */
function frameSize(bytes: Uint8Array): { width: number; height: number } | null {
  for (let i = 2; i + 8 < bytes.length; i++) {
    if (bytes[i] === 0xff && bytes[i + 1]! >= 0xc0 && bytes[i + 1]! <= 0xc2) {
      return { height: (bytes[i + 5]! << 8) | bytes[i + 6]!, width: (bytes[i + 7]! << 8) | bytes[i + 8]! };
    }
  }
  return null;
}

/** Tables of one window per output: weights of a window sum to 1 << 22. */
function tables(windows: [first: number, count: number][]): Coefficients {
  const taps = Math.max(1, ...windows.map(([, count]) => count));
  const weights = new Int32Array(windows.length * taps);
  windows.forEach(([, count], i) => {
    for (let t = 0; t < count; t++) weights[i * taps + t] = t === 0 ? (1 << 22) - (count - 1) * (1 << 20) : 1 << 20;
  });
  return { taps, first: Int32Array.from(windows, ([first]) => first), count: Int32Array.from(windows, ([, count]) => count), weights };
}

/** Pillow's two passes one pixel at a time (the fuzz target's naive oracle), for checking the addon on hostile tables. */
function naiveResize(src: Uint8Array, width: number, height: number, h: Coefficients, v: Coefficients): Uint8Array {
  const clip = (sum: number) => Math.min(255, Math.max(0, Math.floor(sum / (1 << 22))));
  const outWidth = h.first.length;
  const rows = new Uint8Array(height * outWidth * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < outWidth; x++)
      for (let c = 0; c < 3; c++) {
        let sum = 1 << 21;
        for (let t = 0; t < h.count[x]!; t++) sum += src[(y * width + h.first[x]! + t) * 3 + c]! * h.weights[x * h.taps + t]!;
        rows[(y * outWidth + x) * 3 + c] = clip(sum);
      }
  const out = new Uint8Array(v.first.length * outWidth * 3);
  for (let y = 0; y < v.first.length; y++)
    for (let i = 0; i < outWidth * 3; i++) {
      let sum = 1 << 21;
      for (let t = 0; t < v.count[y]!; t++) sum += rows[(v.first[y]! + t) * outWidth * 3 + i]! * v.weights[y * v.taps + t]!;
      out[y * outWidth * 3 + i] = clip(sum);
    }
  return out;
}

describe.skipIf(!addon)('JPEG files the fuzzers found', () => {
  /** What each named file must give now that its bug is fixed. */
  const expected: Record<string, string> = {
    // libjpeg refuses interleaved scans of more than 10 blocks per MCU: there are no pixels to match.
    'blocks-per-mcu-over-10.jpg': 'more than 10 blocks per MCU',
    // A first scan's 10 bits above a shift of 13, times a 16-bit quantisation step: the range checks
    // themselves overflowed an int (undefined behaviour) before declining.
    'progressive-ac-overflow.jpg': 'AC coefficient out of range',
    'progressive-dc-overflow.jpg': 'DC coefficient out of range',
  };
  const files = readdirSync(join(REGRESSIONS, 'jpeg')).filter((f) => f.endsWith('.jpg'));

  it.each(files)('%s: declines or decodes, whole and resized, with any number of threads', async (file) => {
    const bytes = new Uint8Array(readFileSync(join(REGRESSIONS, 'jpeg', file)));
    const one = await native.decodeJpegRgbAsync(bytes, 1 << 24, 1);
    const three = await native.decodeJpegRgbAsync(bytes, 1 << 24, 3);
    expect(three).toEqual(one);
    if ('data' in one) expect(one.data.length).toBe(one.width * one.height * 3);
    if (expected[file]) expect(one).toEqual({ declined: expected[file] });
    const size = 'data' in one ? { width: one.width, height: one.height } : frameSize(bytes);
    if (!size || size.width === 0 || size.height === 0) return;
    for (const orientation of [1, 2, 3, 4]) {
      const resized = await native.decodeJpegResizedAsync(bytes, 1 << 24, orientation, 2, size.width, size.height, null, null, 0, 0, size.width, size.height);
      expect('declined' in resized).toBe('declined' in one);
    }
  });
});

describe.skipIf(!addon)('resampling and tensor arguments the fuzzers (and their review) found', () => {
  // 1684887088 * 3649452082 * 3 is 32 modulo 2^64: the size checks once passed a 32-byte buffer for it,
  // and the kernels wrote gigabytes past the end.
  const [hugeWidth, hugeHeight] = [1684887088, 3649452082];

  it('a width and height whose product wraps around are refused, not trusted', () => {
    expect(() => native.resampleRgb(new Uint8Array(32), hugeWidth, hugeHeight, null, null, 0, 0, hugeWidth, hugeHeight, 1)).toThrow(
      /src length must be width \* height \* 3/,
    );
    expect(() => native.rgbToChw(new Uint8Array(32), hugeWidth, hugeHeight, new Float32Array(768), hugeWidth, hugeHeight, 0, 0)).toThrow(
      /rgb length must be width \* height \* 3/,
    );
  });

  it('an empty region of a 2^31-row image returns at once (it copied 1.8e9 empty rows)', () => {
    const started = performance.now();
    expect(native.resampleRgb(new Uint8Array(0), 0, 1852730880, null, null, 0, 0, 0, 1852730880, 1)).toHaveLength(0);
    expect(native.rgbToChw(new Uint8Array(0), 0, 2762279168, new Float32Array(768), 0, 2762279169, 0, 1)).toHaveLength(0);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('tables whose windows do not move forward read the pixels they name (they read unset or outside memory)', async () => {
    const random = seededRandom(11);
    const [width, height] = [12, 10];
    const src = Uint8Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256));
    // The middle output reads columns 0-1 and row 0, outside the first and last outputs' windows.
    const h = tables([[4, 1], [0, 2], [5, 1]]);
    const v = tables([[5, 1], [0, 2], [6, 1]]);
    const want = naiveResize(src, width, height, h, v);
    expect(Buffer.from(native.resampleRgb(src, width, height, h, v, 0, 0, 3, 3, 1)).equals(Buffer.from(want))).toBe(true);
    expect(Buffer.from(await native.resampleRgbAsync(src, width, height, h, v, 0, 0, 3, 3, 2)).equals(Buffer.from(want))).toBe(true);
  });

  it('a rotated resize whose vertical tables read no row gives black, without touching memory (it copied from a null buffer)', () => {
    const src = Uint8Array.from({ length: 4 * 3 * 3 }, (_, i) => i);
    // Orientation 6: the upright image is 3 wide and 4 high; both outputs' windows are empty.
    const v = { taps: 1, first: Int32Array.of(1, 1), count: Int32Array.of(0, 0), weights: Int32Array.of(0, 0) };
    expect(native.resampleRgb(src, 4, 3, null, v, 0, 0, 3, 2, 1, 6)).toEqual(new Uint8Array(3 * 2 * 3));
  });

  it('weights whose sums would overflow 32 bits are refused', () => {
    const h = tables([[0, 1]]);
    h.weights[0] = -1130798652;
    expect(() => native.resampleRgb(new Uint8Array(2 * 2 * 3), 2, 2, h, null, 0, 0, 1, 2, 1)).toThrow(/horizontal weights are out of range/);
  });
});
