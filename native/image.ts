// The image API over the addon: Pillow's resampler, the model tensor's packing and the JPEG decoder.
// image-fallback.ts is the same API in TypeScript; native/index.ts picks one.
import { availableParallelism } from 'node:os';
import { resizeCoefficients, type ResampleFilter } from './pillow-coefficients.ts';
import { bytesOf } from './resample.ts';
import type { JpegDecodeResult, NativeAddon, Region, RgbImage } from './types.ts';

/** Where rgbToChw puts the pixels: at (left, top) of an `output`-sized tensor, the rest padding. */
export interface ChwPlacement {
  readonly output: { readonly width: number; readonly height: number };
  readonly left: number;
  readonly top: number;
}

export interface JpegDecodeOptions {
  /** A file of more pixels is declined before anything is allocated; default: no limit. */
  readonly maxPixels?: number;
  /** Threads to decode (and resample) on; default 1. */
  readonly threads?: number;
}

/** Pillow's `Image.resize((width, height), filter)` of the upright image. */
export interface ResizeTarget {
  readonly width: number;
  readonly height: number;
  readonly filter: ResampleFilter;
}

export interface JpegResizeOptions extends JpegDecodeOptions {
  /** The image's size as stored, before EXIF orientation (from its header); a file of another size is declined. */
  readonly storedSize: { readonly width: number; readonly height: number };
  /** EXIF orientation 1-8, applied before the resize; default 1. */
  readonly orientation?: number;
  readonly resize: ResizeTarget;
  /** The part of the resized image to return; default: all of it. */
  readonly region?: Region;
}

export interface Imaging {
  /**
   * Pillow's resize of 8-bit RGB (see resample.ts's resizeRgb), only `region` of it computed and
   * returned, off the main thread when native.
   */
  resizeRgbAsync(src: RgbImage, width: number, height: number, filter: ResampleFilter, region?: Region): Promise<RgbImage>;
  /**
   * The planar float32 tensor (R, G, B planes) of `pixels`, each byte through its channel's table
   * (`tables`: 3 x 256 float32), placed per `placement`; padding is byte 0 through the same tables.
   */
  rgbToChw(pixels: RgbImage, placement: ChwPlacement, tables: Float32Array): Float32Array;
  /**
   * A JPEG of the common camera and web kinds (Huffman-coded, sequential or progressive; 4:2:0, 4:2:2,
   * 4:4:4 or grey) to RGB as stored (EXIF orientation not applied), libjpeg-turbo's pixels bit for
   * bit; anything else comes back `declined`, with the reason.
   */
  decodeJpegRgbAsync(bytes: Uint8Array, options?: JpegDecodeOptions): Promise<JpegDecodeResult>;
  /**
   * decodeJpegRgbAsync, EXIF orientation and resizeRgbAsync in one: the same bytes as the steps apart,
   * faster. Orientations 1-4 in one pass, each decoded row resampled as soon as it exists; the
   * rotations (5-8, phone portraits) decoded as stored and resampled down the stored columns, so the
   * full-size image is never rotated.
   */
  decodeJpegResizedAsync(bytes: Uint8Array, options: JpegResizeOptions): Promise<JpegDecodeResult>;
}

// Source pixels per thread below which splitting a resize costs more than it saves.
const RESAMPLE_PIXELS_PER_THREAD = 2_000_000;

function resampleThreads(src: RgbImage): number {
  return Math.min(availableParallelism(), Math.max(1, Math.floor((src.width * src.height) / RESAMPLE_PIXELS_PER_THREAD)));
}

const pixelLimit = (maxPixels = Infinity): number => (Number.isFinite(maxPixels) ? maxPixels : Number.MAX_SAFE_INTEGER);

export function nativeImaging(addon: NativeAddon): Imaging {
  return {
    async resizeRgbAsync(src, width, height, filter, region = { left: 0, top: 0, width, height }) {
      const { horizontal, vertical } = resizeCoefficients(src, width, height, filter);
      const { left, top, width: regionWidth, height: regionHeight } = region;
      const data = await addon.resampleRgbAsync(
        bytesOf(src.data), src.width, src.height, horizontal, vertical, left, top, regionWidth, regionHeight, resampleThreads(src),
      );
      return { data, width: regionWidth, height: regionHeight };
    },

    rgbToChw: (pixels, { output, left, top }, tables) =>
      addon.rgbToChw(bytesOf(pixels.data), pixels.width, pixels.height, tables, output.width, output.height, left, top),

    async decodeJpegRgbAsync(bytes, { maxPixels, threads = 1 } = {}) {
      return addon.decodeJpegRgbAsync(bytes, pixelLimit(maxPixels), threads);
    },

    async decodeJpegResizedAsync(bytes, options) {
      const { storedSize, orientation = 1, resize, maxPixels, threads = 1 } = options;
      const { region = { left: 0, top: 0, width: resize.width, height: resize.height } } = options;
      const rotated = orientation >= 5;
      const upright = rotated ? { width: storedSize.height, height: storedSize.width } : storedSize;
      const { horizontal, vertical } = resizeCoefficients(upright, resize.width, resize.height, resize.filter);
      const { left, top, width: regionWidth, height: regionHeight } = region;
      if (!rotated) {
        return addon.decodeJpegResizedAsync(
          bytes, pixelLimit(maxPixels), orientation, threads, storedSize.width, storedSize.height, horizontal, vertical, left, top, regionWidth, regionHeight,
        );
      }
      const stored = await addon.decodeJpegRgbAsync(bytes, pixelLimit(maxPixels), threads);
      if ('declined' in stored) return stored;
      const data = await addon.resampleRgbAsync(
        stored.data, stored.width, stored.height, horizontal, vertical, left, top, regionWidth, regionHeight, threads, orientation,
      );
      return { data, width: regionWidth, height: regionHeight };
    },
  };
}
