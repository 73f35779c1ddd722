// The worker's fetch of an image URL (worker/embedding/image-input.ts), run
// in Node against a local server: with allowPrivate (local development) the
// worker may fetch http://127.0.0.1, so the redirect rules, statuses and the
// byte cap can be exercised; the public-host rule is in the address-policy
// tests and the search route tests.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveImage, type ImageLimits } from '../../worker/embedding/image-input.ts';

let server: Server;
let base: string;
const accepts: (string | undefined)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    accepts.push(req.headers.accept);
    if (url.pathname === '/image') return res.end(Buffer.alloc(1000, 7));
    if (url.pathname === '/big') return res.end(Buffer.alloc(5000, 1));
    if (url.pathname === '/stream-big') {
      res.write(Buffer.alloc(3000));
      return res.end(Buffer.alloc(3000));
    }
    if (url.pathname === '/redirect') return res.writeHead(302, { location: url.searchParams.get('to')! }).end();
    if (url.pathname === '/hops') {
      const left = Number(url.searchParams.get('n'));
      return res.writeHead(301, { location: left > 0 ? `/hops?n=${left - 1}` : '/image' }).end();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const limits: ImageLimits = { maxBytes: 4096, timeoutMs: 30_000, allowPrivate: true };
const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: { status?: number; code?: string; message?: string }) => ({ status: e.status, code: e.code, message: e.message }),
  );

describe('image URLs in the worker', () => {
  it('fetches the bytes, asking for an image', async () => {
    expect((await resolveImage(`${base}/image`, limits)).length).toBe(1000);
    expect(accepts.at(-1)).toBe('image/*');
  });

  it('follows up to three redirects, each resolved against the URL that sent it', async () => {
    expect((await resolveImage(`${base}/hops?n=2`, limits)).length).toBe(1000);
    expect(await failure(resolveImage(`${base}/hops?n=3`, limits))).toMatchObject({ status: 502, code: 'image_fetch_failed', message: /redirects too often/ });
  });

  it('holds every redirect target to the rules for a URL given first', async () => {
    for (const to of ['ftp://example.com/a.png', `http://user:pw@127.0.0.1/a.png`]) {
      const error = await failure(resolveImage(`${base}/redirect?to=${encodeURIComponent(to)}`, limits));
      expect(error, to).toMatchObject({ status: 400, code: 'invalid_image' });
    }
  });

  it('enforces the byte cap whether or not the length is declared', async () => {
    expect(await failure(resolveImage(`${base}/big`, limits))).toMatchObject({ status: 413, code: 'image_too_large' });
    expect(await failure(resolveImage(`${base}/stream-big`, limits))).toMatchObject({ status: 413, code: 'image_too_large' });
  });

  it('answers 502 for an error status and for a host that does not answer', async () => {
    expect(await failure(resolveImage(`${base}/missing`, limits))).toMatchObject({ status: 502, message: /HTTP 404/ });
    expect(await failure(resolveImage('http://127.0.0.1:1/a.png', limits))).toMatchObject({ status: 502, code: 'image_fetch_failed' });
  });
});
