// GET over node:http(s), following redirects (the hub sends large files to a
// CDN on another origin), with the response as a Node stream. Downloads use
// this instead of fetch because fetch's body stream drops the bytes it has
// buffered when the connection breaks, and a resumable download must keep
// every byte it received. No private-address policy: the hub endpoint is the
// operator's configuration, not user input.
import type { IncomingMessage } from 'node:http';
import { nodeGet } from '../net/node-get.ts';

export interface GetOptions {
  headers?: Record<string, string>;
  maxRedirects?: number;
  /** Abort when the connection carries no data for this long. */
  idleTimeoutMs?: number;
}

export async function httpGet(url: string, options: GetOptions = {}): Promise<IncomingMessage> {
  const { response } = await nodeGet(new URL(url), {
    headers: options.headers ?? {},
    maxRedirects: options.maxRedirects ?? 5,
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    nextUrl: (location, from) => {
      const next = new URL(location, from);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new Error(`refusing a redirect to ${next.protocol} from ${from.origin}`);
      return next;
    },
    tooManyRedirects: () => new Error(`too many redirects fetching ${url}`),
  });
  return response;
}
