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

/** A preprocessing config file that cannot be understood. A deployment problem, not a client one. */
export class PreprocessConfigError extends Error {
  readonly status = 500;
  readonly code = 'invalid_preprocess_config';
  override readonly name = 'PreprocessConfigError';
}
