// The redirect rules every outgoing fetch of a user- or hub-supplied URL
// follows, whatever sends the requests (workerd's fetch with redirect:
// 'manual', node:http): only the fetch standard's redirect statuses, a hop
// limit, each Location resolved against the URL that sent it and checked by
// the caller as if it had been given first, and credentials kept with the
// origin they were given to.

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

export type RequestHeaders = Readonly<Record<string, string>>;

export interface RedirectingClient<R> {
  /** Redirects followed before `tooManyRedirects`. */
  maxRedirects: number;
  /** One GET of `url`, redirects not followed. */
  send(url: URL, headers: RequestHeaders): Promise<R>;
  status(response: R): number;
  location(response: R): string | null | undefined;
  /** Lets go of a redirect's body. */
  discard(response: R): void | Promise<void>;
  /** The URL `location` leads to from `from`; throws the caller's error to refuse it (scheme, address policy). */
  nextUrl(location: string, from: URL): URL;
  tooManyRedirects(): Error;
}

/** The first answer that is not a redirect, and the URL that gave it. */
export async function getFollowingRedirects<R>(url: URL, headers: RequestHeaders, client: RedirectingClient<R>): Promise<{ response: R; url: URL }> {
  for (let redirects = 0; ; redirects++) {
    const response = await client.send(url, headers);
    const location = client.location(response);
    if (!REDIRECT_STATUSES.has(client.status(response)) || !location) return { response, url };
    await client.discard(response);
    if (redirects >= client.maxRedirects) throw client.tooManyRedirects();
    const next = client.nextUrl(location, url);
    // Like fetch: an Authorization header stays with the origin that was given it.
    if (next.origin !== url.origin) headers = withoutAuthorization(headers);
    url = next;
  }
}

function withoutAuthorization(headers: RequestHeaders): RequestHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
}
