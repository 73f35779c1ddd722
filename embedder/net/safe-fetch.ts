// Fetches a user-supplied URL without letting it reach internal services:
// http(s) only, every hop's address checked at connect time (so DNS
// rebinding cannot slip past the check), redirects followed by hand and
// re-checked, a deadline and a byte cap.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';
import { readAtMost } from '../../common/bytes.ts';
import { parseIp, type AddressPolicy } from '../../common/net/address-policy.ts';
import { nodeGet } from './node-get.ts';

export interface SafeFetchOptions {
  policy: AddressPolicy;
  timeoutMs: number;
  maxBytes: number;
  maxRedirects?: number;
}

export class UrlFetchError extends Error {
  constructor(
    message: string,
    /** HTTP status the embedder should answer with. */
    readonly status: 400 | 403 | 413 | 502 | 504,
    readonly code: string,
  ) {
    super(message);
    this.name = 'UrlFetchError';
  }
}

function guardedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 4);
      const allowed = addresses.filter((a) => policy(a.address));
      if (allowed.length === 0)
        return callback(
          new UrlFetchError("the image URL's host resolves to a private or reserved address", 403, 'url_forbidden'),
          '',
          4,
        );
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

/** `raw` (resolved against `base`, for a redirect) if it may be fetched under `policy`. */
function checkedTarget(policy: AddressPolicy, raw: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw new UrlFetchError(`not a valid URL: ${raw.slice(0, 200)}`, 400, 'url_invalid');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UrlFetchError(`image URLs must be http or https (got ${url.protocol})`, 400, 'url_scheme');
  if (url.username || url.password) throw new UrlFetchError('image URLs must not carry credentials', 400, 'url_invalid');
  // A literal IP host skips DNS, so it is checked here; names are checked in the lookup.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (parseIp(host) && !policy(host))
    throw new UrlFetchError('the image URL points at a private or reserved address', 403, 'url_forbidden');
  return url;
}

/** The body of `rawUrl` (after redirects) and its final URL. */
export async function safeFetch(rawUrl: string, options: SafeFetchOptions): Promise<{ body: Uint8Array; url: string }> {
  const { policy, timeoutMs, maxBytes } = options;
  const deadline = AbortSignal.timeout(timeoutMs);
  const start = checkedTarget(policy, rawUrl);
  try {
    const { response, url } = await nodeGet(start, {
      headers: { accept: 'image/*' },
      lookup: guardedLookup(policy),
      signal: deadline,
      maxRedirects: options.maxRedirects ?? 5,
      nextUrl: (location, from) => checkedTarget(policy, location, from),
      tooManyRedirects: () => new UrlFetchError('image URL redirected too many times', 502, 'url_redirects'),
    });
    if (response.statusCode !== 200) {
      response.resume();
      throw new UrlFetchError(`image URL answered HTTP ${response.statusCode ?? 0}`, 502, 'url_status');
    }
    return { body: await readCapped(response, maxBytes), url: url.href };
  } catch (error) {
    if (error instanceof UrlFetchError) throw error;
    if (deadline.aborted) throw new UrlFetchError(`image URL did not answer within ${timeoutMs} ms`, 504, 'url_timeout');
    throw new UrlFetchError(`image URL could not be fetched: ${networkFailure(error)}`, 502, 'url_unreachable');
  }
}

/** A network error in words that name no address (Node's own messages carry the one it connected to). */
function networkFailure(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'its host name does not resolve';
    case 'ECONNREFUSED':
      return 'the connection was refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'the connection was reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'the host is unreachable';
    default:
      return 'network error';
  }
}

async function readCapped(response: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => new UrlFetchError(`image at URL is larger than the ${maxBytes}-byte limit`, 413, 'image_too_large');
  if (Number(response.headers['content-length'] ?? NaN) > maxBytes) {
    response.destroy();
    throw tooLarge();
  }
  const body = await readAtMost(response, maxBytes);
  if (!body) throw tooLarge();
  return body;
}
