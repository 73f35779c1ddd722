/**
 * Errors raised while turning untrusted image bytes into a model tensor.
 * `status` is the HTTP status the API layer should answer with; `code` is a stable machine-readable tag.
 */
export abstract class ImageInputError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
}

/** The bytes are not a format we decode (sniffed from magic bytes, never from a Content-Type). */
export class UnsupportedImageFormatError extends ImageInputError {
  readonly status = 415;
  readonly code = 'unsupported_image_format';
  override readonly name = 'UnsupportedImageFormatError';
}

/** The bytes claim a supported format but are empty, truncated or otherwise undecodable. */
export class CorruptImageError extends ImageInputError {
  readonly status = 400;
  readonly code = 'corrupt_image';
  override readonly name = 'CorruptImageError';
}

/** The header declares more pixels than `maxPixels`: rejected before any pixel is decoded. */
export class ImageTooLargeError extends ImageInputError {
  readonly status = 413;
  readonly code = 'image_too_large';
  override readonly name = 'ImageTooLargeError';

  constructor(
    readonly width: number,
    readonly height: number,
    readonly maxPixels: number,
  ) {
    super(
      `image is ${width}x${height} = ${width * height} pixels, over the limit maxPixels = ${maxPixels}`,
    );
  }
}

/** A small file that would expand to far more than it holds: refused before it is expanded. */
export class DecompressionBombError extends ImageInputError {
  readonly status = 413;
  readonly code = 'decompression_bomb';
  override readonly name: string = 'DecompressionBombError';
}

/**
 * The header declares far more pixels than a file of this size holds in any
 * real image (a few hundred bytes declaring 7000×7000), refused before any
 * pixel is decoded.
 */
export class ImplausibleImageError extends DecompressionBombError {
  override readonly name = 'ImplausibleImageError';

  constructor(
    readonly width: number,
    readonly height: number,
    readonly fileBytes: number,
    readonly maxPixelsPerByte: number,
    readonly exemptPixels: number,
  ) {
    const pixels = width * height;
    super(
      `image declares ${width}x${height} = ${pixels} pixels in a ${fileBytes}-byte file (${Math.round(pixels / fileBytes)} pixels per byte); ` +
        `an image over ${exemptPixels} pixels may declare at most ${maxPixelsPerByte} pixels per byte of file`,
    );
  }
}

/** A preprocessing config file that cannot be understood. A deployment problem, not a client one. */
export class PreprocessConfigError extends Error {
  readonly status = 500;
  readonly code = 'invalid_preprocess_config';
  override readonly name = 'PreprocessConfigError';
}
