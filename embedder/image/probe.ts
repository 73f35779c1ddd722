import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { Metadata } from 'sharp';
import { CorruptImageError, DecompressionBombError, ImageTooLargeError, ImplausibleImageError, UnsupportedImageFormatError } from './errors.ts';
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

/**
 * Images up to this many pixels (12 MB of RGB) are decoded whatever their file
 * size: a flat logo or a blank page compresses extremely well, and what they
 * cost is bounded by the decode budget anyway.
 */
export const RATIO_EXEMPT_PIXELS = 4_000_000;

/**
 * The decompression-ratio rule: a larger image may declare at most
 * `maxPixelsPerByte` pixels per byte of its file. Photos hold 2 to 20 pixels
 * per byte and a flat PNG about 300 (zlib stops near 1000:1); a few hundred
 * bytes declaring 7000×7000 are 185,000.
 */
export function checkRatio(width: number, height: number, fileBytes: number, maxPixelsPerByte: number): void {
  const pixels = width * height;
  if (pixels > RATIO_EXEMPT_PIXELS && pixels > maxPixelsPerByte * fileBytes)
    throw new ImplausibleImageError(width, height, fileBytes, maxPixelsPerByte, RATIO_EXEMPT_PIXELS);
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

/**
 * What a PNG's compressed metadata (zTXt, compressed iTXt, iCCP) may inflate
 * to, all chunks together. A real ICC profile is a few kilobytes to a few
 * hundred; libvips inflates these chunks while reading the header, so 48 KB
 * of zTXt would otherwise cost 50 MB and seconds of CPU before any check.
 */
export const MAX_PNG_METADATA_BYTES = 8 * 1024 * 1024;

/** Where a compressed metadata chunk's zlib stream starts, or -1 when the chunk is uncompressed or not one of them. */
function compressedStart(type: string, data: Uint8Array): number {
  if (type !== 'zTXt' && type !== 'iCCP' && type !== 'iTXt') return -1;
  const keywordEnd = data.indexOf(0);
  if (keywordEnd < 0) return -1;
  if (type === 'zTXt' || type === 'iCCP') return keywordEnd + 2; // keyword, NUL, compression method
  if (type === 'iTXt' && data[keywordEnd + 1] === 1) {
    // keyword, NUL, compression flag, method, language tag, NUL, translated keyword, NUL
    const languageEnd = data.indexOf(0, keywordEnd + 3);
    const translatedEnd = languageEnd < 0 ? -1 : data.indexOf(0, languageEnd + 1);
    return translatedEnd < 0 ? -1 : translatedEnd + 1;
  }
  return -1;
}

/** Refuses a PNG whose compressed metadata inflates past MAX_PNG_METADATA_BYTES, inflating at most that much to find out. */
function checkPngMetadata(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let left = MAX_PNG_METADATA_BYTES;
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + length));
    const start = compressedStart(type, data);
    if (start >= 0) {
      try {
        left -= inflateSync(data.subarray(start), { maxOutputLength: left + 1 }).length;
      } catch (error) {
        // Over the limit; a stream that is merely broken is libvips' to report.
        if (error instanceof RangeError) left = -1;
      }
      if (left < 0)
        throw new DecompressionBombError(`the PNG's compressed metadata (zTXt, iTXt and iCCP chunks) inflates to more than ${MAX_PNG_METADATA_BYTES} bytes`);
    }
    if (type === 'IEND') return;
    at += 12 + length;
  }
}

function describeStart(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.subarray(0, 8)).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return `first bytes: ${hex}`;
}

/**
 * Sniffs the format from magic bytes and reads the header, rejecting unsupported formats (415), corrupt
 * headers (400), images over `maxPixels` (413), PNG metadata bombs (413) and, with `maxPixelsPerByte`,
 * pixel bombs (413, checkRatio) before any pixel memory is allocated.
 */
export async function probeImage(bytes: Uint8Array, maxPixels: number, maxPixelsPerByte = Infinity): Promise<ImageHeader> {
  const checkSize = (width: number, height: number) => {
    checkPixels(width, height, maxPixels);
    checkRatio(width, height, bytes.length, maxPixelsPerByte);
  };
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
    checkSize(width, height);
    return { format, width, height, cmyk: false, grey16: false, orientation: 1 };
  }

  const ihdr = format === 'png' ? pngIhdr(bytes) : null;
  if (ihdr) checkSize(ihdr.width, ihdr.height);
  if (format === 'png') checkPngMetadata(bytes);

  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    // libvips' own words stay in the cause, for the service's log.
    throw new CorruptImageError(`the ${format} image's header is damaged or incomplete`, { cause: error });
  }
  checkSize(metadata.width, metadata.height);

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
