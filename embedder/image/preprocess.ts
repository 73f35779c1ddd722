import type { PreprocessConfig } from './config.ts';
import { decodeRgb } from './decode.ts';
import { centerCropPlacement, resizedSize } from './geometry.ts';
import { probeImage } from './probe.ts';
import { resizeRgbAsync } from './resample.ts';
import { toChwTensor } from './tensor.ts';

/** 64 Mpx (8192 x 8192): 192 MiB of decoded RGB. */
export const DEFAULT_MAX_PIXELS = 8192 * 8192;

export interface PreprocessOptions {
  /** Largest width x height accepted, checked from the header before decoding. */
  readonly maxPixels?: number;
}

/**
 * Image bytes to the model's pixel tensor, float32 CHW (3 x H x W), the way Hugging Face's
 * CLIPImageProcessor does it on PIL: EXIF orientation, PIL convert("RGB"), Pillow resize, centre crop,
 * rescale, normalise.
 * @throws UnsupportedImageFormatError (415), CorruptImageError (400), ImageTooLargeError (413)
 */
export async function preprocess(
  imageBytes: Uint8Array,
  config: PreprocessConfig,
  options: PreprocessOptions = {},
): Promise<Float32Array> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const header = await probeImage(imageBytes, maxPixels);
  const image = await decodeRgb(imageBytes, header, maxPixels);
  const resized = resizedSize(image, config.resize);
  const placement = centerCropPlacement(resized, config.centerCrop);
  // Only the pixels that survive the crop are resampled.
  const pixels = await resizeRgbAsync(image, resized.width, resized.height, config.resample, placement.source);
  return toChwTensor(pixels, placement, config);
}
