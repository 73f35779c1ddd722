// The embedder's use of native/'s JPEG decoder: how many threads an image gets, from its header. A file
// it declines (or every file, without the addon) is the embedder's to decode: preprocess.ts then
// decodes it with libvips (decode.ts), as Pillow would see it.
import { availableParallelism } from 'node:os';
import { decodeJpegResizedAsync, decodeJpegRgbAsync, type JpegDecodeResult, type Region, type ResizeTarget } from '../../native/index.ts';
import type { ImageHeader } from './probe.ts';

// Decoded pixels per thread. Below a megapixel one thread is best: a batch already decodes its
// images concurrently, and extra threads would only preempt inference on a busy machine.
const PIXELS_PER_THREAD = 1_000_000;

function decodeThreads(header: ImageHeader): number {
  return Math.min(availableParallelism(), Math.max(1, Math.ceil((header.width * header.height) / PIXELS_PER_THREAD)));
}

/** The JPEG's pixels as stored (EXIF orientation not applied), libjpeg-turbo's bit for bit, or why native/ declined it. */
export function decodeJpegNative(bytes: Uint8Array, header: ImageHeader, maxPixels: number): Promise<JpegDecodeResult> {
  return decodeJpegRgbAsync(bytes, { maxPixels, threads: decodeThreads(header) });
}

export interface JpegResizedOptions {
  readonly maxPixels: number;
  readonly resize: ResizeTarget;
  /** The part of the resized image to return. */
  readonly region: Region;
}

/**
 * `decodeJpegNative`, EXIF orientation and Pillow's resize in one (native/'s decodeJpegResizedAsync):
 * the same bytes as decoding with libvips and resizing, faster, or why native/ declined the file.
 */
export function decodeJpegResized(bytes: Uint8Array, header: ImageHeader, options: JpegResizedOptions): Promise<JpegDecodeResult> {
  return decodeJpegResizedAsync(bytes, { ...options, storedSize: header, orientation: header.orientation, threads: decodeThreads(header) });
}
