import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyAddress, publicOnly } from '../../common/net/address-policy.ts';
import { safeFetch, UrlFetchError } from '../../embedder/net/safe-fetch.ts';

describe('safeFetch', () => {
  let server: Server;
  let base: string;
  let port: number;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/image') return res.end(Buffer.alloc(1000, 7));
      if (url.pathname === '/big') return res.end(Buffer.alloc(5000, 1));
      if (url.pathname === '/stream-big') {
        res.write(Buffer.alloc(3000));
        return res.end(Buffer.alloc(3000));
      }
      if (url.pathname === '/slow') return setTimeout(() => res.end('late'), 2000);
      if (url.pathname === '/redirect') return res.writeHead(302, { location: url.searchParams.get('to')! }).end();
      if (url.pathname === '/loop') return res.writeHead(302, { location: '/loop' }).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  // A generous deadline: only the /slow case, with its own, is about timing.
  const open = { policy: anyAddress, timeoutMs: 30_000, maxBytes: 4096 };
  const failure = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as UrlFetchError);

  it('fetches a URL when the address policy allows it', async () => {
    const { body } = await safeFetch(`${base}/image`, open);
    expect(body.length).toBe(1000);
  });

  it('refuses loopback and private hosts by default, by name and by literal address', async () => {
    for (const url of [`${base}/image`, `http://localhost:${port}/image`, 'http://[::1]:1/x', 'http://169.254.169.254/latest/meta-data/']) {
      const error = await failure(safeFetch(url, { ...open, policy: publicOnly }));
      expect(error).toBeInstanceOf(UrlFetchError);
      expect(error!.status).toBe(403);
    }
  });

  it('re-checks every redirect target', async () => {
    // 127.0.0.1 stands in for a public host; 127.0.0.2 for an internal one.
    const policy = (address: string) => address === '127.0.0.1';
    const to = encodeURIComponent(`http://127.0.0.2:${port}/image`);
    const error = await failure(safeFetch(`${base}/redirect?to=${to}`, { ...open, policy }));
    expect(error?.status).toBe(403);
    const ok = await safeFetch(`${base}/redirect?to=${encodeURIComponent('/image')}`, { ...open, policy });
    expect(ok.url).toBe(`${base}/image`);
  });

  it.each([
    ['ftp://example.com/a.png', 400, 'url_scheme'],
    ['file:///etc/passwd', 400, 'url_scheme'],
    ['not a url', 400, 'url_invalid'],
    ['http://user:pw@example.com/a.png', 400, 'url_invalid'],
  ])('rejects %s', async (url, status, code) => {
    const error = await failure(safeFetch(url, open));
    expect([error?.status, error?.code]).toEqual([status, code]);
  });

  it('enforces the byte cap whether or not the length is declared', async () => {
    expect((await failure(safeFetch(`${base}/big`, open)))?.status).toBe(413);
    expect((await failure(safeFetch(`${base}/stream-big`, open)))?.status).toBe(413);
  });

  it('gives up after the deadline, after too many redirects, and on error statuses', async () => {
    expect((await failure(safeFetch(`${base}/slow`, { ...open, timeoutMs: 100 })))?.code).toBe('url_timeout');
    expect((await failure(safeFetch(`${base}/loop`, open)))?.code).toBe('url_redirects');
    expect((await failure(safeFetch(`${base}/missing`, open)))?.code).toBe('url_status');
  });
});
