/**
 * Photo-like test images, the same bytes for the same arguments on every run: gradients, hard edges
 * and grain, so that every DCT frequency is exercised and a JPEG of them compresses and decodes
 * like a real picture (a flat colour or an SVG of a few shapes does not).
 */
import sharp from 'sharp';

/** Interleaved RGB pixels; `seed` varies the grain. */
export function photoRgb(width: number, height: number, seed = 1): Buffer {
  const rgb = Buffer.alloc(width * height * 3);
  let noise = seed;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      noise = (noise * 1103515245 + 12345) >>> 0;
      const grain = noise >>> 27;
      const edge = (x >> 3) % 5 === 0 || (y >> 4) % 7 === 0 ? 90 : 0;
      const o = (y * width + x) * 3;
      rgb[o] = Math.min(255, ((x * 255) / width + grain + edge) | 0);
      rgb[o + 1] = Math.min(255, ((y * 255) / height + grain) | 0);
      rgb[o + 2] = Math.min(255, (((x + y) * 127) / (width + height) + 64 + edge + (grain >> 1)) | 0);
    }
  }
  return rgb;
}

export interface PhotoJpegOptions {
  seed?: number;
  /** Default 90. */
  quality?: number;
  /** sharp's default (4:2:0) unless given. */
  chromaSubsampling?: string;
  /** An EXIF orientation tag (1–8); none unless given. */
  orientation?: number;
}

/** `photoRgb` encoded as a baseline JPEG by sharp (libjpeg-turbo). */
export async function photoJpeg(width: number, height: number, options: PhotoJpegOptions = {}): Promise<Buffer> {
  const { seed = 1, quality = 90, chromaSubsampling, orientation } = options;
  const encoded = sharp(photoRgb(width, height, seed), { raw: { width, height, channels: 3 } }).jpeg({
    quality,
    ...(chromaSubsampling ? { chromaSubsampling } : {}),
  });
  return (orientation === undefined ? encoded : encoded.withMetadata({ orientation })).toBuffer();
}
