// Turns the ways a client hands over an image (data URL, base64, https URL)
// into bytes, within limits.
import { ApiError, badRequest } from '../errors.ts';

export interface ImageLimits {
  maxBytes: number;
  timeoutMs: number;
  /** Local development: allow http:// and private or loopback hosts. */
  allowPrivate: boolean;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const MAX_REDIRECTS = 3;

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

/** Hosts a worker must not be steered to when it runs outside Cloudflare (self-hosted workerd). */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (host === 'localhost' || /\.(localhost|local|internal|home\.arpa)$/.test(host)) return true;
  if (host.includes(':')) return true; // IPv6 literal: loopback, link-local, ULA and mapped IPv4 all need care; refuse them all
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  if (!v4) return false;
  const [a, b] = [Number(v4[1]), Number(v4[2])];
  return a === 0 || a === 10 || a === 127 || a >= 224 || (a === 100 && b >= 64 && b < 128) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168);
}

async function fetchImage(reference: string, limits: ImageLimits): Promise<Uint8Array> {
  let url = parseImageUrl(reference, limits);
  for (let hop = 0; ; hop++) {
    let response: Response;
    try {
      response = await fetch(url.href, { redirect: 'manual', signal: AbortSignal.timeout(limits.timeoutMs), headers: { accept: 'image/*' } });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      throw new ApiError(timedOut ? 504 : 502, 'image_fetch_failed', `could not fetch the image URL: ${timedOut ? 'timed out' : 'network error'}`);
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new ApiError(502, 'image_fetch_failed', 'the image URL redirects too often');
      url = parseImageUrl(new URL(location, url).href, limits);
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new ApiError(502, 'image_fetch_failed', `the image URL answered HTTP ${response.status}`);
    }
    const length = Number(response.headers.get('content-length') ?? NaN);
    if (length > limits.maxBytes) {
      await response.body?.cancel();
      throw tooLarge(limits.maxBytes);
    }
    return checkImageBytes(await readCapped(response, limits.maxBytes), limits.maxBytes);
  }
}

function parseImageUrl(reference: string, limits: ImageLimits): URL {
  let url: URL;
  try {
    url = new URL(reference);
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

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
