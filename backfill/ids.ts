// Stable item ids. Vectorize limits an id to 64 bytes of UTF-8, so every
// derivation fits that; rerunning a backfill derives the same id for the same
// item, and an upsert under that id replaces rather than duplicates.
import { createHash } from 'node:crypto';

export const MAX_ID_BYTES = 64;

/** `content` (default): a hash of the bytes; `path`: the path relative to the root, or the URL. */
export type IdFrom = 'content' | 'path';

const sha256Hex = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

export const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** An image: the first 32 hex characters (128 bits) of the SHA-256 of its bytes (`sha256sum | cut -c1-32`). */
export const imageContentId = (bytes: Uint8Array): string => sha256Hex(bytes).slice(0, 32);

/** A text: the same over "text:" followed by its UTF-8, so a text never shares an id with an image file. */
export const textContentId = (text: string): string => sha256Hex(`text:${text}`).slice(0, 32);

/** A path or URL as the id when it fits in 64 bytes, else the first 32 hex characters of its SHA-256. */
export function locatorId(locator: string): string {
  return utf8Bytes(locator) <= MAX_ID_BYTES ? locator : sha256Hex(locator).slice(0, 32);
}
