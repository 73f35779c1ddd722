// Item thumbnails on the real stack: the worker in workerd (Miniflare) with
// its THUMBNAILS R2 bucket, the embedder and the local index. POST /v1/items
// stores a thumbnail with its item, GET /v1/items/{id}/thumbnail serves it
// with its type, R2's ETag and a long cache lifetime, deletes remove it, and
// a worker without the binding says so.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporaryDirectory } from '../support/files.ts';
import { ADMIN_TOKEN, startStack, type Stack } from '../support/worker-stack.ts';

const MAX_THUMBNAIL_BYTES = 256 * 1024;
let stack: Stack;
let base: string;

beforeAll(async () => {
  stack = await startStack();
  base = stack.worker.url;
});
afterAll(() => stack?.close());

interface ErrorBody {
  error: { code: string; message: string };
}

const thumbnailUrl = (id: string, at = base) => `${at}/v1/items/${encodeURIComponent(id)}/thumbnail`;
const adminRequest = (path: string, body: unknown, method = 'POST', at = base) =>
  fetch(`${at}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const vector = (seed: number) => Array.from({ length: stack.dim }, (_, i) => Math.sin(seed * 31 + i));
const item = (id: string, seed: number, thumbnail?: Uint8Array | string) => ({
  id,
  vector: vector(seed),
  metadata: { kind: 'test' },
  ...(thumbnail === undefined ? {} : { thumbnail: typeof thumbnail === 'string' ? thumbnail : Buffer.from(thumbnail).toString('base64') }),
});
const upsert = (items: unknown[], at = base) => adminRequest('/v1/items', { items }, 'POST', at);
const stored = async (id: string) => (await fetch(`${base}/v1/items/${encodeURIComponent(id)}`)).status === 200;

async function picture(format: 'webp' | 'jpeg' | 'png', colour: { r: number; g: number; b: number }, width = 64, height = 48): Promise<Uint8Array> {
  return new Uint8Array(await sharp({ create: { width, height, channels: 3, background: colour } })[format]().toBuffer());
}

async function expectError(response: Response, status: number, code: string, message?: RegExp): Promise<string> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const { error } = JSON.parse(text) as ErrorBody;
  expect(error.code).toBe(code);
  if (message) expect(error.message).toMatch(message);
  return error.message;
}

describe('thumbnails stored with items', () => {
  it('serves an upserted thumbnail with its type, an ETag and a long cache lifetime', async () => {
    const webp = await picture('webp', { r: 200, g: 40, b: 40 });
    expect((await upsert([item('thumb-a', 1, webp)])).status).toBe(202);

    const response = await fetch(thumbnailUrl('thumb-a'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/webp');
    expect(response.headers.get('etag')).toMatch(/^"[^"]+"$/);
    expect(response.headers.get('cache-control')).toBe('public, max-age=86400');
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(webp);
  });

  it('answers If-None-Match with the current ETag with 304 and no body', async () => {
    const first = await fetch(thumbnailUrl('thumb-a'));
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    const again = await fetch(thumbnailUrl('thumb-a'), { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('cache-control')).toBe('public, max-age=86400');
    expect(await again.text()).toBe('');
    const listed = await fetch(thumbnailUrl('thumb-a'), { headers: { 'if-none-match': `"other", W/${etag}` } });
    expect(listed.status).toBe(304);
  });

  it('replaces the picture when the item is upserted with another, under a new ETag', async () => {
    const before = await fetch(thumbnailUrl('thumb-a'));
    const oldEtag = before.headers.get('etag')!;
    await before.arrayBuffer();

    const jpeg = await picture('jpeg', { r: 20, g: 40, b: 220 });
    expect((await upsert([item('thumb-a', 1, `data:image/jpeg;base64,${Buffer.from(jpeg).toString('base64')}`)])).status).toBe(202);

    const after = await fetch(thumbnailUrl('thumb-a'), { headers: { 'if-none-match': oldEtag } });
    expect(after.status).toBe(200);
    expect(after.headers.get('content-type')).toBe('image/jpeg');
    expect(after.headers.get('etag')).not.toBe(oldEtag);
    expect(new Uint8Array(await after.arrayBuffer())).toEqual(jpeg);
  });

  it('stores PNG too, and addresses ids with slashes and any Unicode text', async () => {
    const png = await picture('png', { r: 10, g: 200, b: 10 });
    const id = 'photos/été 2024/a#1?.png';
    expect((await upsert([item(id, 2, png)])).status).toBe(202);
    const response = await fetch(thumbnailUrl(id));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(png);
  });

  it('removes the thumbnail of an item upserted again without one (an upsert replaces the whole item)', async () => {
    expect((await upsert([item('thumb-b', 3, await picture('webp', { r: 1, g: 2, b: 3 }))])).status).toBe(202);
    expect((await fetch(thumbnailUrl('thumb-b'))).status).toBe(200);
    expect((await upsert([item('thumb-b', 3)])).status).toBe(202);
    await expectError(await fetch(thumbnailUrl('thumb-b')), 404, 'thumbnail_not_found', /thumb-b/);
    expect(await stored('thumb-b')).toBe(true);
  });

  it('removes the thumbnail when its item is deleted, one at a time or in bulk', async () => {
    const webp = await picture('webp', { r: 90, g: 90, b: 0 });
    expect((await upsert([item('del-1', 4, webp), item('del-2', 5, webp), item('del-3', 6, webp)])).status).toBe(202);
    for (const id of ['del-1', 'del-2', 'del-3']) expect((await fetch(thumbnailUrl(id))).status).toBe(200);

    expect((await adminRequest(`/v1/items/${encodeURIComponent('del-1')}`, undefined, 'DELETE')).status).toBe(202);
    expect((await adminRequest('/v1/items:delete', { ids: ['del-2', 'del-3'] })).status).toBe(202);
    for (const id of ['del-1', 'del-2', 'del-3']) {
      await expectError(await fetch(thumbnailUrl(id)), 404, 'thumbnail_not_found');
      expect(await stored(id)).toBe(false);
    }
  });

  it('answers 404 JSON for an id without a thumbnail and 400 for a malformed id', async () => {
    await expectError(await fetch(thumbnailUrl('never-stored')), 404, 'thumbnail_not_found', /never-stored/);
    await expectError(await fetch(thumbnailUrl('x'.repeat(65))), 400, 'invalid_parameter', /64 bytes/);
    await expectError(await fetch(`${base}/v1/items/a%0Ab/thumbnail`), 400, 'invalid_parameter', /control characters/);
  });

  it.each<[string, () => Promise<string>, RegExp]>([
    ['not base64', async () => 'this is not base64!', /items\.1\.thumbnail \(item "bad-new"\) must be base64/],
    ['not a WebP, JPEG or PNG (a GIF)', async () => Buffer.from(await sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } }).gif().toBuffer()).toString('base64'), /items\.1\.thumbnail \(item "bad-new"\) is not a WebP, JPEG or PNG/],
    ['text', async () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>').toString('base64'), /is not a WebP, JPEG or PNG/],
    ['over 256 KiB', async () => Buffer.concat([Buffer.from(await picture('png', { r: 0, g: 0, b: 0 })), Buffer.alloc(MAX_THUMBNAIL_BYTES)]).toString('base64'), /is over 262144 bytes/],
  ])('refuses a thumbnail that is %s with 400, naming the item, and writes nothing', async (_, thumbnail, message) => {
    const good = await picture('webp', { r: 5, g: 5, b: 5 });
    const response = await upsert([item('bad-ok', 7, good), item('bad-new', 8, await thumbnail())]);
    await expectError(response, 400, 'invalid_thumbnail', message);
    expect(await stored('bad-ok')).toBe(false);
    expect(await stored('bad-new')).toBe(false);
    expect((await fetch(thumbnailUrl('bad-ok'))).status).toBe(404);
  });

  it('documents the route and the field in the OpenAPI document', async () => {
    interface Schema { properties?: Record<string, Schema>; maxLength?: number; items?: Schema; description?: string }
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
      components: { schemas: Record<string, Schema> };
    };
    const get = doc.paths['/v1/items/{id}/thumbnail']!.get!;
    expect(Object.keys(get.responses).sort()).toEqual(['200', '304', '400', '404', '429']);
    expect(Object.keys(get.responses['200']!.content!).sort()).toEqual(['image/jpeg', 'image/png', 'image/webp']);
    const field = doc.components.schemas.UpsertRequest!.properties!.items!.items!.properties!.thumbnail!;
    expect(field.maxLength).toBeGreaterThanOrEqual((MAX_THUMBNAIL_BYTES / 3) * 4);
    expect(field.description).toMatch(/WebP, JPEG or PNG/);
  });

  it('rate-limits the route like the other public routes', async () => {
    const limited = await stack.addWorker({ rateLimit: { limit: 2, period: 60 } });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await fetch(thumbnailUrl('thumb-a', limited.url))).status);
      // This worker's bucket (its own Miniflare) is empty: 404s until the limit.
      expect(statuses).toEqual([404, 404, 429]);
    } finally {
      await limited.close();
    }
  });

  it('keeps thumbnails in the persist directory with KV, across a restart', async () => {
    const persistDir = temporaryDirectory('thumbnails-persist-');
    const first = await stack.addWorker({ persistDir });
    const webp = await picture('webp', { r: 33, g: 66, b: 99 });
    try {
      expect((await upsert([item('persisted', 9, webp)], first.url)).status).toBe(202);
    } finally {
      await first.close();
    }
    const second = await stack.addWorker({ persistDir });
    try {
      const response = await fetch(thumbnailUrl('persisted', second.url));
      expect(response.status).toBe(200);
      expect(new Uint8Array(await response.arrayBuffer())).toEqual(webp);
    } finally {
      await second.close();
    }
  });
});

describe('a worker without the THUMBNAILS binding', () => {
  let bare: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    bare = await stack.addWorker({ thumbnails: false });
  });
  afterAll(() => bare?.close());

  it('refuses an upsert with a thumbnail with 500 misconfigured naming the binding, and writes nothing', async () => {
    const response = await upsert([item('unbound', 10, await picture('webp', { r: 1, g: 1, b: 1 }))], bare.url);
    await expectError(response, 500, 'misconfigured', /THUMBNAILS binding/);
    expect(await stored('unbound')).toBe(false);
  });

  it('still upserts and deletes items without thumbnails, and answers 404 JSON for a thumbnail', async () => {
    expect((await upsert([item('unbound-plain', 11)], bare.url)).status).toBe(202);
    expect(await stored('unbound-plain')).toBe(true);
    await expectError(await fetch(thumbnailUrl('thumb-a', bare.url)), 404, 'thumbnail_not_found');
    expect((await adminRequest('/v1/items:delete', { ids: ['unbound-plain'] }, 'POST', bare.url)).status).toBe(202);
    expect(await stored('unbound-plain')).toBe(false);
  });
});
