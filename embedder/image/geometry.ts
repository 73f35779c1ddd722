import type { Region } from '../../native/index.ts';
import type { ResizeSpec, Size } from './config.ts';

/**
 * transformers' get_resize_output_image_size(default_to_square=False): the short side becomes
 * `shortestEdge` and the long side is int(shortestEdge * long / short), truncated (451x300 -> 336x224).
 */
export function resizedSize(image: Size, resize: ResizeSpec | null): Size {
  if (!resize) return image;
  if (resize.kind === 'exact') return { width: resize.width, height: resize.height };
  const edge = resize.shortestEdge;
  if (image.width <= image.height) {
    return { width: edge, height: Math.trunc((edge * image.height) / image.width) };
  }
  return { width: Math.trunc((edge * image.width) / image.height), height: edge };
}

/** Which part of the resized image lands where in the output tensor; the rest of the output is zero padding. */
export interface CropPlacement {
  readonly output: Size;
  /** In resized-image pixels. */
  readonly source: Region;
  /** Offset of `source` inside the output. */
  readonly left: number;
  readonly top: number;
}

/**
 * transformers' center_crop: offset floor((size - crop) / 2); when the image is smaller than the crop
 * along an axis it is zero-padded there, placed at ceil((crop - size) / 2).
 */
export function centerCropPlacement(image: Size, crop: Size | null): CropPlacement {
  if (!crop) return { output: image, source: { left: 0, top: 0, ...image }, left: 0, top: 0 };
  const axis = (size: number, cropSize: number) =>
    size >= cropSize
      ? { from: Math.floor((size - cropSize) / 2), to: 0, length: cropSize }
      : { from: 0, to: Math.ceil((cropSize - size) / 2), length: size };
  const x = axis(image.width, crop.width);
  const y = axis(image.height, crop.height);
  return {
    output: crop,
    source: { left: x.from, top: y.from, width: x.length, height: y.length },
    left: x.to,
    top: y.to,
  };
}
