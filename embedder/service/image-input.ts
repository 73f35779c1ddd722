// Turns the ways a client can hand over an image (raw bytes, a data URL,
// base64, an http(s) URL) into bytes, within the configured limits. Problems
// are ImageReferenceErrors; the HTTP layer (http/errors.ts) answers them.
import type { EmbedderLimits } from '../config.ts';
import { anyAddress, publicOnly } from '../../common/net/address-policy.ts';
import { safeFetch } from '../net/safe-fetch.ts';

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** What is wrong with an image as given: no bytes, over EMBEDDER_MAX_IMAGE_BYTES, or not a form we read. */
export type ImageReferenceProblem = 'empty' | 'too_large' | 'malformed';

export class ImageReferenceError extends Error {
  override readonly name = 'ImageReferenceError';

  constructor(
    readonly problem: ImageReferenceProblem,
    message: string,
  ) {
    super(message);
  }
}

export function checkImageSize(bytes: Uint8Array, limits: EmbedderLimits): Uint8Array {
  if (bytes.length === 0) throw new ImageReferenceError('empty', 'image is empty');
  if (bytes.length > limits.maxImageBytes)
    throw new ImageReferenceError('too_large', `image is ${bytes.length} bytes; the limit (EMBEDDER_MAX_IMAGE_BYTES) is ${limits.maxImageBytes}`);
  return bytes;
}

function decodeBase64(data: string, limits: EmbedderLimits): Uint8Array {
  const compact = data.replace(/\s+/g, '');
  if (!BASE64.test(compact)) throw new ImageReferenceError('malformed', 'image is neither an http(s) URL, a data URL nor base64');
  if ((compact.length * 3) / 4 > limits.maxImageBytes + 3)
    throw new ImageReferenceError('too_large', `image exceeds the ${limits.maxImageBytes}-byte limit (EMBEDDER_MAX_IMAGE_BYTES)`);
  return new Uint8Array(Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64'));
}

/** Bytes of an image given as a data URL, base64 or an http(s) URL. */
export async function resolveImageReference(reference: string, limits: EmbedderLimits): Promise<Uint8Array> {
  if (/^https?:\/\//i.test(reference)) {
    const { body } = await safeFetch(reference, {
      policy: limits.allowPrivateUrls ? anyAddress : publicOnly,
      timeoutMs: limits.urlTimeoutMs,
      maxBytes: limits.maxImageBytes,
    });
    return checkImageSize(body, limits);
  }
  if (reference.startsWith('data:')) {
    const comma = reference.indexOf(',');
    if (comma < 0 || !/;base64$/i.test(reference.slice(0, comma)))
      throw new ImageReferenceError('malformed', 'image data URLs must be base64 (data:<type>;base64,...)');
    return checkImageSize(decodeBase64(reference.slice(comma + 1), limits), limits);
  }
  return checkImageSize(decodeBase64(reference, limits), limits);
}
