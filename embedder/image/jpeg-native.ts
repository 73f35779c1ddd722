import { availableParallelism } from 'node:os';
import { addon } from '../../native/addon.ts';
import type { JpegDeclined, JpegDecodeResult } from '../../native/types.ts';
import { resizeCoefficients } from './pillow-coefficients.ts';
import type { ResampleFilter } from './pillow-coefficients.ts';
import { uprightSize, type ImageHeader } from './probe.ts';
import type { Region, RgbImage } from './resample.ts';

// Decoded pixels per thread. Below a megapixel one thread is best: a batch already decodes its
// images concurrently, and extra threads would only preempt inference on a busy machine.
const PIXELS_PER_THREAD = 1_000_000;

function decodeThreads(header: ImageHeader): number {
  return Math.min(availableParallelism(), Math.max(1, Math.ceil((header.width * header.height) / PIXELS_PER_THREAD)));
}

function pixelLimit(maxPixels: number): number {
  return Number.isFinite(maxPixels) ? maxPixels : Number.MAX_SAFE_INTEGER;
}

/**
 * A JPEG of the common camera and web kinds (Huffman-coded, sequential or progressive; 4:2:0, 4:2:2,
 * 4:4:4 or grey) through the native decoder, pixels as stored (EXIF orientation not applied):
 * libjpeg-turbo's bit for bit, with the inverse DCT and colour conversion on several threads (for a
 * sequential file, overlapped with its entropy decoding). Anything else comes back `declined`, for
 * libvips to decode.
 */
export async function decodeJpegNative(bytes: Uint8Array, header: ImageHeader, maxPixels: number): Promise<JpegDecodeResult> {
  if (!addon) return { declined: 'native addon not loaded' };
  return addon.decodeJpegRgbAsync(bytes, pixelLimit(maxPixels), decodeThreads(header));
}

/**
 * `decodeJpegNative` then `resizeRgb(image, width, height, filter, region)`, the same bytes as the two
 * steps apart, faster: for EXIF orientations 1-4 in one pass, each decoded row resampled horizontally
 * as soon as it exists; for the rotations (5-8, phone portraits) decoded as stored and resampled down
 * the stored columns, so the full-size image is never rotated.
 */
export async function decodeJpegResized(
  bytes: Uint8Array,
  header: ImageHeader,
  maxPixels: number,
  width: number,
  height: number,
  filter: ResampleFilter,
  region: Region,
): Promise<RgbImage | JpegDeclined> {
  if (!addon) return { declined: 'native addon not loaded' };
  const rotated = header.orientation >= 5;
  const upright = uprightSize(header);
  const { horizontal, vertical } = resizeCoefficients(upright, width, height, filter);
  if (rotated) {
    const stored = await decodeJpegNative(bytes, header, maxPixels);
    if ('declined' in stored) return stored;
    const { left, top, width: regionWidth, height: regionHeight } = region;
    const data = await addon.resampleRgbAsync(
      stored.data, stored.width, stored.height, horizontal, vertical, left, top, regionWidth, regionHeight, decodeThreads(header), header.orientation,
    );
    return { data, width: regionWidth, height: regionHeight };
  }
  return addon.decodeJpegResizedAsync(
    bytes,
    pixelLimit(maxPixels),
    header.orientation,
    decodeThreads(header),
    header.width,
    header.height,
    horizontal,
    vertical,
    region.left,
    region.top,
    region.width,
    region.height,
  );
}
