// What a thumbnail may be: at most 256 KiB of WebP, JPEG or PNG (formats
// every browser shows), recognised by its first bytes, never by what the
// client says.

export const MAX_THUMBNAIL_BYTES = 256 * 1024;
/** The longest `thumbnail` field of an upsert: the base64 of MAX_THUMBNAIL_BYTES, with room for a data URL's prefix and line breaks. */
export const MAX_THUMBNAIL_CHARS = Math.ceil(MAX_THUMBNAIL_BYTES / 3) * 4 + 4096;

export const THUMBNAIL_TYPES = ['image/webp', 'image/jpeg', 'image/png'] as const;
export type ThumbnailType = (typeof THUMBNAIL_TYPES)[number];

const startsWith = (bytes: Uint8Array, prefix: readonly number[], at = 0) => prefix.every((b, i) => bytes[at + i] === b);
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** The content type of a WebP, JPEG or PNG picture, or undefined for anything else. */
export function thumbnailType(bytes: Uint8Array): ThumbnailType | undefined {
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'image/webp';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  return undefined;
}
