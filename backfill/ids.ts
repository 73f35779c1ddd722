// Stable item ids. Vectorize limits an id to 64 bytes of UTF-8, so every
// derivation fits that; rerunning a backfill derives the same id for the same
// item, and an upsert under that id replaces rather than duplicates.
import { createHash } from 'node:crypto';

export const MAX_ID_BYTES = 64;

/**
 * `content` (the default, except for the queue target): a hash of the bytes; `path`: the path
 * relative to the root, or the URL; `url` (the queue target's default): a hash of the normalised URL,
 * so that a URL need not be downloaded to be identified.
 */
export type IdFrom = 'content' | 'path' | 'url';

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

/**
 * A URL as the WHATWG URL parser writes it (scheme and host in lower case, the default port
 * dropped, dot segments resolved, reserved characters percent-encoded, "/" for an empty path),
 * without its fragment, which never reaches the server.
 */
export function normalizeUrl(url: string): string {
  const parsed = new URL(url);
  parsed.hash = '';
  return parsed.href;
}

/** A URL: the first 32 hex characters of the SHA-256 of its normalised form (`printf %s "$URL" | sha256sum | cut -c1-32`). */
export const urlId = (url: string): string => sha256Hex(normalizeUrl(url)).slice(0, 32);
