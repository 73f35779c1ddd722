// A thumbnail as POST /v1/items carries it: base64 (or a base64 data URL) of
// a WebP, JPEG or PNG of at most MAX_THUMBNAIL_BYTES. What is wrong with one
// is the item's 400, naming it.
import { decodeBase64 } from '../embedding/image-input.ts';
import { ApiError, badRequest } from '../errors.ts';
import { MAX_THUMBNAIL_BYTES, thumbnailType, type ThumbnailType } from './format.ts';

export interface Thumbnail {
  bytes: Uint8Array;
  contentType: ThumbnailType;
}

const DATA_URL = /^data:[^,]*;base64,/i;

/** The picture in item `index` (id `id`) of an upsert; a 400 invalid_thumbnail that names the item when it is none. */
export function readThumbnail(data: string, index: number, id: string): Thumbnail {
  const where = `items.${index}.thumbnail (item ${JSON.stringify(id)})`;
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(data.replace(DATA_URL, ''), MAX_THUMBNAIL_BYTES);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const problem =
      error.code === 'image_too_large' ? `is over ${MAX_THUMBNAIL_BYTES} bytes` : error.code === 'empty_image' ? 'is empty' : 'must be base64 or a base64 data URL';
    throw badRequest('invalid_thumbnail', `${where} ${problem}`);
  }
  const contentType = thumbnailType(bytes);
  if (!contentType) throw badRequest('invalid_thumbnail', `${where} is not a WebP, JPEG or PNG picture (by its first bytes)`);
  return { bytes, contentType };
}
