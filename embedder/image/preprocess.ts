import { resizeRgbAsync } from '../../native/index.ts';
import type { PreprocessConfig } from './config.ts';
import { decodeJpegShrunk, decodeRgb } from './decode.ts';
import type { DecodeBudget } from './decode-budget.ts';
import { decodeJpegResized } from './jpeg-native.ts';
import { centerCropPlacement, resizedSize } from './geometry.ts';
import { probeImage, uprightSize, type ImageHeader } from './probe.ts';
import type { ImageFormat } from './sniff.ts';
import { toChwTensor } from './tensor.ts';

/** 64 Mpx (8192 x 8192): 192 MiB of decoded RGB. */
export const DEFAULT_MAX_PIXELS = 8192 * 8192;

export interface PreprocessOptions {
  /** Largest width x height accepted, checked from the header before decoding. */
  readonly maxPixels?: number;
  /**
   * 'exact' (default): Pillow's pixels, bit for bit. 'fast': a large JPEG is
   * decoded straight to 1/2, 1/4 or 1/8 of its size (never below twice the
   * model's input size) by libvips' shrink-on-load, about 2× faster on camera
   * photos, at a cosine of about 0.9999 to the exact tensor.
   */
  readonly decode?: 'exact' | 'fast';
  /** Told which decoder produced each image's pixels (the embedder counts them in /metrics). */
  readonly onDecoded?: (report: DecodeReport) => void;
  /** The decompression-ratio rule (probe.ts checkRatio); default: none. */
  readonly maxPixelsPerByte?: number;
  /** Pixel memory shared with every other decode in the process; default: none. */
  readonly budget?: DecodeBudget;
}

/** Bytes an image holds while it is decoded: its RGB pixels at the size they are decoded at. */
export function decodeCost(header: ImageHeader, shrink = 1): number {
  return Math.ceil(header.width / shrink) * Math.ceil(header.height / shrink) * 3;
}

/**
 * Which decoder produced an image's pixels: the native JPEG path, libvips, or the GIF decoder, and for a
 * JPEG that the native path declined, why (one of a fixed set of reasons).
 */
export interface DecodeReport {
  readonly format: ImageFormat;
  readonly decoder: 'native' | 'libvips' | 'gif';
  readonly declined?: string;
}

/** The shrink-on-load factor 'fast' may use: the image stays at least twice the resize target. */
function jpegShrink(header: ImageHeader, config: PreprocessConfig): number {
  const resize = config.resize;
  if (header.format !== 'jpeg' || header.cmyk || resize?.kind !== 'shortestEdge') return 1;
  const short = Math.min(header.width, header.height);
  return [8, 4, 2].find((f) => short / f >= 2 * resize.shortestEdge) ?? 1;
}

/**
 * Image bytes to the model's pixel tensor, float32 CHW (3 x H x W), the way Hugging Face's
 * CLIPImageProcessor does it on PIL: EXIF orientation, PIL convert("RGB"), Pillow resize, centre crop,
 * rescale, normalise.
 * @throws UnsupportedImageFormatError (415), CorruptImageError (400), ImageTooLargeError and
 *   ImplausibleImageError (413), DecodeBudgetError (the budget stayed spent)
 */
export async function preprocess(
  imageBytes: Uint8Array,
  config: PreprocessConfig,
  options: PreprocessOptions = {},
): Promise<Float32Array> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const header = await probeImage(imageBytes, maxPixels, options.maxPixelsPerByte);
  const shrink = options.decode === 'fast' ? jpegShrink(header, config) : 1;
  const release = await options.budget?.reserve(decodeCost(header, shrink));
  try {
    return await decodeToTensor(imageBytes, config, header, { shrink, maxPixels, onDecoded: options.onDecoded });
  } finally {
    release?.();
  }
}

async function decodeToTensor(
  imageBytes: Uint8Array,
  config: PreprocessConfig,
  header: ImageHeader,
  { shrink, maxPixels, onDecoded }: { shrink: number; maxPixels: number; onDecoded: PreprocessOptions['onDecoded'] },
): Promise<Float32Array> {
  let declined: string | undefined;
  if (header.format === 'jpeg' && shrink === 1) {
    const resized = resizedSize(uprightSize(header), config.resize);
    const placement = centerCropPlacement(resized, config.centerCrop);
    const resize = { ...resized, filter: config.resample };
    const pixels = await decodeJpegResized(imageBytes, header, { maxPixels, resize, region: placement.source });
    if (!('declined' in pixels)) {
      onDecoded?.({ format: 'jpeg', decoder: 'native' });
      return toChwTensor(pixels, placement, config);
    }
    declined = pixels.declined;
  }
  const image = shrink > 1 ? await decodeJpegShrunk(imageBytes, header, maxPixels, shrink) : await decodeRgb(imageBytes, header, maxPixels);
  onDecoded?.({ format: header.format, decoder: header.format === 'gif' ? 'gif' : 'libvips', ...(declined ? { declined } : {}) });
  // Sizes follow the full-resolution upright image, whatever resolution it was decoded at.
  const resized = resizedSize(shrink > 1 ? uprightSize(header) : image, config.resize);
  const placement = centerCropPlacement(resized, config.centerCrop);
  // Only the pixels that survive the crop are resampled.
  const pixels = await resizeRgbAsync(image, resized.width, resized.height, config.resample, placement.source);
  return toChwTensor(pixels, placement, config);
}
