// Decoding with libvips (through sharp): every format but GIF, and the JPEGs that native/'s decoder
// declines (all of them without the addon). This is the embedder's decoding policy, not native/'s
// fallback: native/ has no JPEG decoder in TypeScript and leaves a declined file to its caller.
import sharp from 'sharp';
import type { OutputInfo, Sharp } from 'sharp';
import type { RgbImage } from '../../native/index.ts';
import { CorruptImageError, ImageTooLargeError } from './errors.ts';
import { decodeGifFirstFrame } from './gif.ts';
import { cmykToRgb, grey16ToRgb } from './pil-convert.ts';
import { uprightSize, type ImageHeader } from './probe.ts';

/**
 * Open like PIL: EXIF orientation applied (as `ImageOps.exif_transpose`), embedded ICC profiles ignored,
 * first frame only, and truncated data is an error rather than grey filler.
 */
function open(bytes: Uint8Array, maxPixels: number): Sharp {
  return sharp(bytes, {
    autoOrient: true,
    ignoreIcc: true,
    pages: 1,
    failOn: 'truncated',
    sequentialRead: true, // streamed top to bottom: same pixels, less memory, faster
    limitInputPixels: Number.isFinite(maxPixels) ? maxPixels : false,
  });
}

async function raw(
  pipeline: Sharp,
  header: ImageHeader,
  maxPixels: number,
): Promise<{ data: Buffer; info: OutputInfo }> {
  try {
    return await pipeline.toBuffer({ resolveWithObject: true });
  } catch (error) {
    const message = (error as Error).message;
    // probeImage checks first; this is sharp's own backstop for a header that lied.
    if (/pixel limit/i.test(message)) throw new ImageTooLargeError(header.width, header.height, maxPixels);
    // libvips' own words stay in the cause, for the service's log.
    throw new CorruptImageError('the image data is damaged or truncated and could not be decoded', { cause: error });
  }
}

function asUint16(data: Buffer): Uint16Array {
  const aligned = data.byteOffset % 2 === 0 ? data : Buffer.from(data);
  return new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.length >> 1);
}

/**
 * Decodes to 8-bit RGB the way PIL's `convert("RGB")` does: alpha dropped (never composited or
 * premultiplied), palette expanded, grey replicated, 16-bit reduced to the high byte (grey alone: clipped),
 * CMYK by PIL's formula. GIF is decoded here rather than by libvips, to keep the transparent index's colour.
 */
export async function decodeRgb(bytes: Uint8Array, header: ImageHeader, maxPixels: number): Promise<RgbImage> {
  if (header.format === 'gif') return decodeGifFirstFrame(bytes, maxPixels);
  return decodeWith(open(bytes, maxPixels), header, maxPixels);
}

/**
 * A JPEG decoded straight to 1/`shrink` of its size by libvips' shrink-on-load
 * (libjpeg's DCT scaling, then a nearest-neighbour step to the exact size):
 * several times faster on large photos, but no longer Pillow's pixels. Only
 * for `decode: 'fast'`.
 */
export async function decodeJpegShrunk(bytes: Uint8Array, header: ImageHeader, maxPixels: number, shrink: number): Promise<RgbImage> {
  const upright = uprightSize(header);
  const width = Math.ceil(upright.width / shrink);
  const height = Math.ceil(upright.height / shrink);
  const pipeline = open(bytes, maxPixels).resize({ width, height, fit: 'fill', fastShrinkOnLoad: true, kernel: 'nearest' });
  return decodeWith(pipeline, header, maxPixels);
}

async function decodeWith(image: Sharp, header: ImageHeader, maxPixels: number): Promise<RgbImage> {
  const decode = (pipeline: Sharp) => raw(pipeline, header, maxPixels);
  if (header.cmyk) {
    const { data, info } = await decode(image.pipelineColourspace('cmyk').toColourspace('cmyk').raw({ depth: 'uchar' }));
    const rgb = cmykToRgb(data, info.width * info.height, info.channels);
    return { data: rgb, width: info.width, height: info.height };
  }
  if (header.grey16) {
    const { data, info } = await decode(image.extractChannel(0).toColourspace('grey16').raw({ depth: 'ushort' }));
    const rgb = grey16ToRgb(asUint16(data), info.width * info.height);
    return { data: rgb, width: info.width, height: info.height };
  }
  const { data, info } = await decode(image.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }));
  if (info.channels !== 3) throw new CorruptImageError(`image decoded to ${info.channels} channels instead of RGB`);
  return { data, width: info.width, height: info.height };
}
