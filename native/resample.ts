// Pillow's resampler in TypeScript: the fallback of the addon's resampleRgb (native/src/image/resample_rgb.cc),
// the same fixed-point arithmetic and so the same bytes, and the reference the native one is tested against.
import { PRECISION_BITS, pillowCoefficients } from './pillow-coefficients.ts';
import type { Coefficients, ResampleFilter } from './pillow-coefficients.ts';
import type { Region, RgbImage } from './types.ts';

const HALF = 1 << (PRECISION_BITS - 1);

/**
 * Horizontal pass over source rows [rowStart, rowEnd), producing output columns
 * [colStart, colStart + outWidth). Writes to a Uint8ClampedArray so that storing `sum >> PRECISION_BITS`
 * clamps to 0..255 exactly like Pillow's clip8 table.
 */
function horizontalPass(
  src: RgbImage,
  rowStart: number,
  rowEnd: number,
  coeffs: Coefficients,
  colStart: number,
  outWidth: number,
): Uint8ClampedArray {
  const { taps, first, count, weights } = coeffs;
  const input = bytesOf(src.data);
  const inStride = src.width * 3;
  const out = new Uint8ClampedArray((rowEnd - rowStart) * outWidth * 3);
  let o = 0;
  for (let y = rowStart; y < rowEnd; y++) {
    const rowOffset = y * inStride;
    for (let xx = colStart; xx < colStart + outWidth; xx++) {
      const kEnd = xx * taps + (count[xx] as number);
      let p = rowOffset + (first[xx] as number) * 3;
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let k = xx * taps; k < kEnd; k++, p += 3) {
        const w = weights[k] as number;
        r += (input[p] as number) * w;
        g += (input[p + 1] as number) * w;
        b += (input[p + 2] as number) * w;
      }
      out[o] = r >> PRECISION_BITS;
      out[o + 1] = g >> PRECISION_BITS;
      out[o + 2] = b >> PRECISION_BITS;
      o += 3;
    }
  }
  return out;
}

/**
 * Vertical pass producing output rows [rowStart, rowStart + outHeight). `input` holds source rows from
 * `inputFirstRow` on, `rowBytes` wide, starting `colOffset` bytes into each row of `inStride`.
 */
function verticalPass(
  input: Uint8Array,
  inStride: number,
  colOffset: number,
  rowBytes: number,
  inputFirstRow: number,
  coeffs: Coefficients,
  rowStart: number,
  outHeight: number,
): Uint8ClampedArray {
  const { taps, first, count, weights } = coeffs;
  const out = new Uint8ClampedArray(outHeight * rowBytes);
  const acc = new Int32Array(rowBytes);
  for (let yy = rowStart; yy < rowStart + outHeight; yy++) {
    acc.fill(HALF);
    const n = count[yy] as number;
    const kBase = yy * taps;
    const firstRow = (first[yy] as number) - inputFirstRow;
    for (let t = 0; t < n; t++) {
      const w = weights[kBase + t] as number;
      const p = (firstRow + t) * inStride + colOffset;
      for (let i = 0; i < rowBytes; i++) acc[i] = (acc[i] as number) + (input[p + i] as number) * w;
    }
    const o = (yy - rowStart) * rowBytes;
    for (let i = 0; i < rowBytes; i++) out[o + i] = (acc[i] as number) >> PRECISION_BITS;
  }
  return out;
}

/** A plain Uint8Array view, so that the hot loops see a single array type. */
export function bytesOf(data: Uint8Array | Uint8ClampedArray): Uint8Array {
  return data.constructor === Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function copyRegion(src: RgbImage, region: Region): Uint8ClampedArray {
  const rowBytes = region.width * 3;
  const out = new Uint8ClampedArray(region.height * rowBytes);
  for (let y = 0; y < region.height; y++) {
    const from = ((region.top + y) * src.width + region.left) * 3;
    out.set(src.data.subarray(from, from + rowBytes), y * rowBytes);
  }
  return out;
}

/**
 * Pillow's `Image.resize((width, height), filter)` for an 8-bit RGB image (ImagingResample: horizontal
 * pass first into a uint8 intermediate, then vertical; an axis whose size does not change is not
 * resampled). Only `region` of the resized image is computed and returned; every output pixel depends
 * only on its own row and column coefficients, so the region is bit-identical to cropping the full result.
 */
export function resizeRgb(
  src: RgbImage,
  width: number,
  height: number,
  filter: ResampleFilter,
  region: Region = { left: 0, top: 0, width, height },
): RgbImage {
  const needHorizontal = width !== src.width;
  const needVertical = height !== src.height;
  const out = { width: region.width, height: region.height };
  if (!needHorizontal && !needVertical) return { ...out, data: copyRegion(src, region) };

  const vertical = needVertical ? pillowCoefficients(src.height, height, filter) : null;
  // Source rows that the requested output rows read.
  let rowStart = region.top;
  let rowEnd = region.top + region.height;
  if (vertical && region.height > 0) {
    const lastRow = region.top + region.height - 1;
    rowStart = vertical.first[region.top] as number;
    rowEnd = (vertical.first[lastRow] as number) + (vertical.count[lastRow] as number);
  }

  const rowBytes = region.width * 3;
  if (!needHorizontal && vertical) {
    const input = bytesOf(src.data);
    const data = verticalPass(input, src.width * 3, region.left * 3, rowBytes, 0, vertical, region.top, region.height);
    return { ...out, data };
  }

  const horizontal = pillowCoefficients(src.width, width, filter);
  const rows = horizontalPass(src, rowStart, rowEnd, horizontal, region.left, region.width);
  if (!vertical) return { ...out, data: rows };
  const data = verticalPass(bytesOf(rows), rowBytes, 0, rowBytes, rowStart, vertical, region.top, region.height);
  return { ...out, data };
}
