// Turns the ways a client hands over an image (data URL, base64, https URL)
// into bytes, within limits.
import { readAtMost } from '../../common/bytes.ts';
import { isPrivateHost } from '../../common/net/address-policy.ts';
import { getFollowingRedirects, type RequestHeaders } from '../../common/net/redirects.ts';
import { ApiError, badRequest } from '../errors.ts';

export interface ImageLimits {
  maxBytes: number;
  timeoutMs: number;
  /** Local development: allow http:// and private or loopback hosts. */
  allowPrivate: boolean;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const MAX_REDIRECTS = 3;

/** The image URL answered an error status: a 404 will not get better, a 503 may (the backfill queue retries only those). */
export class ImageUrlStatusError extends ApiError {
  constructor(readonly upstreamStatus: number) {
    super(502, 'image_fetch_failed', `the image URL answered HTTP ${upstreamStatus}`);
  }
}

const tooLarge = (maxBytes: number) => new ApiError(413, 'image_too_large', `image exceeds ${maxBytes} bytes (MAX_IMAGE_BYTES)`);

export async function resolveImage(reference: string, limits: ImageLimits): Promise<Uint8Array> {
  if (/^https?:\/\//i.test(reference)) return fetchImage(reference, limits);
  if (reference.startsWith('data:')) {
    const comma = reference.indexOf(',');
    if (comma < 0 || !/;base64$/i.test(reference.slice(0, comma)))
      throw badRequest('invalid_image', 'image data URLs must be base64: data:<type>;base64,<data>');
    return decodeBase64(reference.slice(comma + 1), limits.maxBytes);
  }
  return decodeBase64(reference, limits.maxBytes);
}

export function decodeBase64(data: string, maxBytes: number): Uint8Array {
  const compact = data.replace(/\s+/g, '');
  if (!BASE64.test(compact) || compact.length === 0)
    throw badRequest('invalid_image', 'image must be an https URL, a base64 data URL or base64');
  if (Math.floor((compact.length * 3) / 4) > maxBytes + 2) throw tooLarge(maxBytes);
  let binary: string;
  try {
    const standard = compact.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
    binary = atob(standard + '='.repeat((4 - (standard.length % 4)) % 4));
  } catch {
    throw badRequest('invalid_image', 'image is not valid base64');
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return checkImageBytes(bytes, maxBytes);
}

export function checkImageBytes(bytes: Uint8Array, maxBytes: number): Uint8Array {
  if (bytes.length === 0) throw badRequest('empty_image', 'image is empty');
  if (bytes.length > maxBytes) throw tooLarge(maxBytes);
  return bytes;
}

async function fetchImage(reference: string, limits: ImageLimits): Promise<Uint8Array> {
  const { response } = await getFollowingRedirects(parseImageUrl(reference, limits), { accept: 'image/*' }, {
    maxRedirects: MAX_REDIRECTS,
    send: (url, headers) => send(url, headers, limits.timeoutMs),
    status: (r) => r.status,
    location: (r) => r.headers.get('location'),
    discard: (r) => r.body?.cancel(),
    nextUrl: (location, from) => parseImageUrl(location, limits, from),
    tooManyRedirects: () => new ApiError(502, 'image_fetch_failed', 'the image URL redirects too often'),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new ImageUrlStatusError(response.status);
  }
  if (Number(response.headers.get('content-length') ?? NaN) > limits.maxBytes) {
    await response.body?.cancel();
    throw tooLarge(limits.maxBytes);
  }
  const bytes = response.body ? await readAtMost(response.body, limits.maxBytes) : new Uint8Array(0);
  if (!bytes) throw tooLarge(limits.maxBytes);
  return checkImageBytes(bytes, limits.maxBytes);
}

/** One request; workerd's fetch does not let a caller check where redirects lead, so they come back here. */
async function send(url: URL, headers: RequestHeaders, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url.href, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), headers });
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    throw new ApiError(timedOut ? 504 : 502, 'image_fetch_failed', `could not fetch the image URL: ${timedOut ? 'timed out' : 'network error'}`);
  }
}

/** `reference` (resolved against `base`, for a redirect) if the worker may fetch it. */
export function parseImageUrl(reference: string, limits: Pick<ImageLimits, 'allowPrivate'>, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(reference, base);
  } catch {
    throw badRequest('invalid_image', 'image URL is not a valid URL');
  }
  if (url.protocol !== 'https:' && !(limits.allowPrivate && url.protocol === 'http:'))
    throw badRequest('invalid_image', 'image URLs must use https');
  if (url.username || url.password) throw badRequest('invalid_image', 'image URLs must not carry credentials');
  if (!limits.allowPrivate && isPrivateHost(url.hostname))
    throw badRequest('invalid_image', 'image URLs must point at a public host');
  return url;
}
