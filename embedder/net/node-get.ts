// GET over node:http(s) under the shared redirect rules (common/net/redirects):
// the embedder's one client for URLs, used for image URLs (with an address-
// guarding lookup) and model downloads (with an idle timeout).
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { getFollowingRedirects, type RedirectingClient, type RequestHeaders } from '../../common/net/redirects.ts';

export interface NodeGetOptions extends Pick<RedirectingClient<IncomingMessage>, 'maxRedirects' | 'nextUrl' | 'tooManyRedirects'> {
  headers: RequestHeaders;
  /** Resolves host names (to refuse some addresses at connect time). */
  lookup?: LookupFunction;
  signal?: AbortSignal;
  /** Abort when the connection carries no data for this long. */
  idleTimeoutMs?: number;
}

/** The first answer that is not a redirect, as a Node stream, and the URL that gave it. */
export function nodeGet(url: URL, options: NodeGetOptions): Promise<{ response: IncomingMessage; url: URL }> {
  return getFollowingRedirects(url, options.headers, {
    maxRedirects: options.maxRedirects,
    send: (next, headers) => getOnce(next, headers, options),
    status: (response) => response.statusCode ?? 0,
    location: (response) => response.headers.location,
    discard: (response) => void response.resume(),
    nextUrl: options.nextUrl,
    tooManyRedirects: options.tooManyRedirects,
  });
}

function getOnce(url: URL, headers: RequestHeaders, options: NodeGetOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : null;
    if (!client) return reject(new Error(`unsupported URL scheme ${url.protocol}`));
    const { lookup, signal, idleTimeoutMs } = options;
    const request = client.request(url, { headers, ...(lookup ? { lookup } : {}), ...(signal ? { signal } : {}) });
    if (idleTimeoutMs !== undefined)
      request.setTimeout(idleTimeoutMs, () => request.destroy(new Error(`no data from ${url.host} for ${idleTimeoutMs / 1000} s`)));
    request.once('response', resolve);
    request.once('error', reject);
    request.end();
  });
}
