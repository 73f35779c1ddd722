// --thumbnails: a small WebP of each image read, sent with its item for the
// worker to store (worker/README.md#thumbnails) and the search page to show.
import sharp from 'sharp';
import { MAX_THUMBNAIL_BYTES } from '../worker/thumbnails/format.ts';
import { ItemError } from './failures.ts';

/** The long side of a thumbnail, at most: enough for a result grid on a high-density screen. */
export const THUMBNAIL_SIZE = 256;
const WEBP_QUALITY = 80;

/** Upright (EXIF orientation applied), at most THUMBNAIL_SIZE px on the long side, aspect kept, never enlarged; the first frame of an animation. */
export async function makeThumbnail(bytes: Uint8Array): Promise<Uint8Array> {
  let webp: Buffer;
  try {
    webp = await sharp(bytes)
      .autoOrient()
      .resize({ width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE, fit: 'inside', withoutEnlargement: true })
      .webp({ quality: WEBP_QUALITY })
      .toBuffer();
  } catch (error) {
    throw new ItemError('thumbnail_failed', `could not make its thumbnail: ${(error as Error).message}`);
  }
  // Far from it in practice (a 256 px WebP is some kilobytes), but the worker refuses more.
  if (webp.byteLength > MAX_THUMBNAIL_BYTES) throw new ItemError('thumbnail_failed', `its thumbnail came out at ${webp.byteLength} bytes, over the worker's ${MAX_THUMBNAIL_BYTES}`);
  return new Uint8Array(webp.buffer, webp.byteOffset, webp.byteLength);
}
