// GET over node:http(s), following redirects, with the response as a Node
// stream. Downloads use this instead of fetch because fetch's body stream
// drops the bytes it has buffered when the connection breaks, and a resumable
// download must keep every byte it received.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

export interface GetOptions {
  headers?: Record<string, string>;
  maxRedirects?: number;
  /** Abort when the connection carries no data for this long. */
  idleTimeoutMs?: number;
}

export async function httpGet(url: string, options: GetOptions = {}): Promise<IncomingMessage> {
  let current = new URL(url);
  let headers = options.headers ?? {};
  for (let redirects = 0; ; redirects++) {
    const response = await getOnce(current, headers, options.idleTimeoutMs ?? 60_000);
    const location = response.headers.location;
    if (!redirectStatuses.has(response.statusCode ?? 0) || !location) return response;
    response.resume();
    if (redirects >= (options.maxRedirects ?? 5)) throw new Error(`too many redirects fetching ${url}`);
    const next = new URL(location, current);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new Error(`refusing a redirect to ${next.protocol} from ${current.origin}`);
    // Like fetch: credentials stay with the origin that was given them.
    if (next.origin !== current.origin) headers = withoutAuthorization(headers);
    current = next;
  }
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
}

function getOnce(url: URL, headers: Record<string, string>, idleTimeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : null;
    if (!send) return reject(new Error(`unsupported URL scheme ${url.protocol}`));
    const request = send(url, { headers });
    request.setTimeout(idleTimeoutMs, () => request.destroy(new Error(`no data from ${url.host} for ${idleTimeoutMs / 1000} s`)));
    request.once('response', resolve);
    request.once('error', reject);
    request.end();
  });
}
