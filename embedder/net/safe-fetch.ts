// Fetches a user-supplied URL without letting it reach internal services:
// http(s) only, every hop's address checked at connect time (so DNS
// rebinding cannot slip past the check), redirects followed by hand and
// re-checked, a deadline and a byte cap.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { AddressPolicy } from './address-policy.ts';

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

function guardedLookup(policy: AddressPolicy, hostname: string): LookupFunction {
  return (host, options, callback) => {
    dnsLookup(host, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 4);
      const allowed = addresses.filter((a) => policy(a.address));
      if (allowed.length === 0)
        return callback(
          new UrlFetchError(`image URL host ${hostname} resolves to a private or reserved address`, 403, 'url_forbidden'),
          '',
          4,
        );
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

function parseTarget(raw: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw new UrlFetchError(`not a valid URL: ${raw.slice(0, 200)}`, 400, 'url_invalid');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UrlFetchError(`image URLs must be http or https (got ${url.protocol})`, 400, 'url_scheme');
  if (url.username || url.password) throw new UrlFetchError('image URLs must not carry credentials', 400, 'url_invalid');
  return url;
}

function request(url: URL, options: SafeFetchOptions, signal: AbortSignal): Promise<IncomingMessage> {
  // Literal IP hosts skip DNS, so check them here; names are checked in lookup.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    if (/^[\d.]+$|:/.test(host) && !options.policy(host))
      return reject(new UrlFetchError(`image URL host ${host} is a private or reserved address`, 403, 'url_forbidden'));
    const req = client.get(url, { lookup: guardedLookup(options.policy, host), signal, headers: { accept: 'image/*' } }, resolve);
    req.on('error', reject);
  });
}

/** The body of `rawUrl` (after redirects) and its final URL. */
export async function safeFetch(rawUrl: string, options: SafeFetchOptions): Promise<{ body: Uint8Array; url: string }> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  let url = parseTarget(rawUrl);
  try {
    for (let hop = 0; ; hop++) {
      const response = await request(url, options, deadline);
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        if (hop >= (options.maxRedirects ?? 5)) throw new UrlFetchError('image URL redirected too many times', 502, 'url_redirects');
        url = parseTarget(response.headers.location, url);
        continue;
      }
      if (status !== 200) {
        response.resume();
        throw new UrlFetchError(`image URL answered HTTP ${status}`, 502, 'url_status');
      }
      return { body: await readCapped(response, options.maxBytes), url: url.href };
    }
  } catch (error) {
    if (error instanceof UrlFetchError) throw error;
    if (deadline.aborted) throw new UrlFetchError(`image URL did not answer within ${options.timeoutMs} ms`, 504, 'url_timeout');
    throw new UrlFetchError(`image URL could not be fetched: ${(error as Error).message}`, 502, 'url_unreachable');
  }
}

async function readCapped(response: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers['content-length'] ?? NaN);
  const tooLarge = () => new UrlFetchError(`image at URL is larger than the ${maxBytes}-byte limit`, 413, 'image_too_large');
  if (declared > maxBytes) {
    response.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      response.destroy();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
