import sharp from 'sharp';
import type { Metadata } from 'sharp';
import { CorruptImageError, ImageTooLargeError, UnsupportedImageFormatError } from './errors.ts';
import { sniffImageFormat } from './sniff.ts';
import type { ImageFormat } from './sniff.ts';

/** What the header says, read without decoding any pixel. Sizes are as stored (before EXIF rotation). */
export interface ImageHeader {
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
  /** CMYK pixels need PIL's own conversion formula. */
  readonly cmyk: boolean;
  /** 16-bit greyscale without an alpha channel, which PIL converts to RGB by clipping. */
  readonly grey16: boolean;
  /** EXIF orientation (1–8; 5–8 swap width and height when applied). */
  readonly orientation: number;
}

const PNG_COLOUR_GREY = 0;

/** The image's size once its EXIF orientation is applied. */
export function uprightSize(header: ImageHeader): { width: number; height: number } {
  return header.orientation >= 5 ? { width: header.height, height: header.width } : { width: header.width, height: header.height };
}

/** Throws ImageTooLargeError when width x height is over `maxPixels`. */
export function checkPixels(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) throw new ImageTooLargeError(width, height, maxPixels);
}

/** PNG's IHDR is always the first chunk, at a fixed offset. */
function pngIhdr(bytes: Uint8Array): { width: number; height: number; bitDepth: number; colourType: number } | null {
  if (bytes.length < 33) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return null;
  return {
    width: view.getUint32(16),
    height: view.getUint32(20),
    bitDepth: bytes[24] as number,
    colourType: bytes[25] as number,
  };
}

function describeStart(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.subarray(0, 8)).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return `first bytes: ${hex}`;
}

/**
 * Sniffs the format from magic bytes and reads the header, rejecting unsupported formats (415), corrupt
 * headers (400) and images over `maxPixels` (413) before any pixel memory is allocated.
 */
export async function probeImage(bytes: Uint8Array, maxPixels: number): Promise<ImageHeader> {
  if (bytes.length === 0) throw new CorruptImageError('image is empty (0 bytes)');
  const format = sniffImageFormat(bytes);
  if (!format) {
    throw new UnsupportedImageFormatError(
      `not a supported image format (JPEG, PNG, WebP, GIF, TIFF or AVIF); ${describeStart(bytes)}`,
    );
  }

  if (format === 'gif') {
    // Decoded by gif.ts, which checks the frame extents too; the logical screen size is at offset 6.
    if (bytes.length < 13) throw new CorruptImageError('GIF header is truncated');
    const width = (bytes[6] as number) | ((bytes[7] as number) << 8);
    const height = (bytes[8] as number) | ((bytes[9] as number) << 8);
    checkPixels(width, height, maxPixels);
    return { format, width, height, cmyk: false, grey16: false, orientation: 1 };
  }

  const ihdr = format === 'png' ? pngIhdr(bytes) : null;
  if (ihdr) checkPixels(ihdr.width, ihdr.height, maxPixels);

  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new CorruptImageError(`${format} image has an unreadable header: ${(error as Error).message}`, {
      cause: error,
    });
  }
  checkPixels(metadata.width, metadata.height, maxPixels);

  const grey16 = ihdr
    ? ihdr.colourType === PNG_COLOUR_GREY && ihdr.bitDepth === 16
    : metadata.space === 'grey16' && metadata.channels === 1;
  return {
    format,
    width: metadata.width,
    height: metadata.height,
    cmyk: metadata.space === 'cmyk',
    grey16,
    orientation: metadata.orientation ?? 1,
  };
}
