import type { Coefficients } from './pillow-coefficients.ts';

export type Metric = 'dot' | 'cosine';

export interface TopKResult {
  /** Row indices, `queries × min(k, rows)`, best first per query. */
  indices: Uint32Array;
  /** Scores matching `indices`. */
  scores: Float32Array;
}

/**
 * What a scoring implementation provides. Arguments arrive validated;
 * `threads` 0 means "choose from the amount of work".
 */
export interface ScoringBackend {
  l2Normalize(matrix: Float32Array, dim: number, threads: number): Float32Array;
  scores(queries: Float32Array, matrix: Float32Array, dim: number, metric: Metric, threads: number): Float32Array;
  topK(queries: Float32Array, matrix: Float32Array, dim: number, k: number, metric: Metric, threads: number): TopKResult;
  l2NormalizeAsync(matrix: Float32Array, dim: number, threads: number): Promise<Float32Array>;
  scoresAsync(
    queries: Float32Array,
    matrix: Float32Array,
    dim: number,
    metric: Metric,
    threads: number,
  ): Promise<Float32Array>;
  topKAsync(
    queries: Float32Array,
    matrix: Float32Array,
    dim: number,
    k: number,
    metric: Metric,
    threads: number,
  ): Promise<TopKResult>;
  simdLevel(): string;
  supportedSimdLevels(): string[];
  setSimdLevel(level: string): boolean;
}

/** Interleaved 8-bit RGB, 3 bytes per pixel, rows top to bottom, no padding. */
export interface RgbImage {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

/** A rectangle of an image, in its pixel coordinates. */
export interface Region {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** Why the native JPEG decoder left a file to libjpeg: arithmetic coding, CMYK, damaged data... */
export interface JpegDeclined {
  declined: string;
}

/** What the native JPEG decoder returns: RGB pixels, or why it left the file to libjpeg. */
export type JpegDecodeResult = { data: Uint8Array; width: number; height: number } | JpegDeclined;

/** Image size, the axes (null: that side keeps its size) and the region of the resized image to return. */
type ResizeArgs = [
  width: number,
  height: number,
  horizontal: Coefficients | null,
  vertical: Coefficients | null,
  left: number,
  top: number,
  regionWidth: number,
  regionHeight: number,
];

type ResampleArgs = [
  src: Uint8Array,
  ...resize: ResizeArgs,
  threads: number,
  /** 1 (default), or an EXIF orientation 5-8: the axes and region are of the image it makes of `src`. */
  orientation?: number,
];

/**
 * The compiled addon: a scoring backend plus image decoding, resampling and tensor packing, with
 * positional arguments. Only native/index.ts and its modules call it; everything else uses their API.
 */
export interface NativeAddon extends ScoringBackend {
  resampleRgb(...args: ResampleArgs): Uint8Array;
  resampleRgbAsync(...args: ResampleArgs): Promise<Uint8Array>;
  /** RGB bytes to a planar float32 tensor through per-channel tables (R, G, B: 256 each), placed at (left, top). */
  rgbToChw(rgb: Uint8Array, width: number, height: number, tables: Float32Array, outWidth: number, outHeight: number, left: number, top: number): Float32Array;
  /** Baseline JPEG to RGB as stored (no EXIF orientation), bit-identical to libjpeg-turbo (native/src/image/jpeg). */
  decodeJpegRgbAsync(bytes: Uint8Array, maxPixels: number, threads: number): Promise<JpegDecodeResult>;
  /** The same decode, EXIF orientation 1-4 applied, fused with resampleRgb: only the region of the resized image is returned. */
  decodeJpegResizedAsync(
    ...args: [bytes: Uint8Array, maxPixels: number, orientation: number, threads: number, ...resize: ResizeArgs]
  ): Promise<JpegDecodeResult>;
}
