// The search worker in workerd (Miniflare) against a real embedder and the
// local index: every route, rankings checked against exact cosine on the
// embedder's own embeddings, caching (hit/miss/stale, ETag/304, KV reuse,
// coalescing, invalidation on write), admin auth and input validation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalText } from '../../worker/lib/hash.ts';
import { eventually, sleep } from '../support/timing.ts';
import { ADMIN_TOKEN, EMBEDDER_TOKEN, exactRanking, startStack, testImage, type Stack } from '../support/worker-stack.ts';

// Long enough that a paused test machine never sees a fresh entry go stale; the stale-while-revalidate
// test runs its own worker with a 2 s TTL.
const TTL = 60;
let stack: Stack;
let base: string;

interface SearchBody {
  query: Record<string, unknown>;
  results: { id: string; score: number; metadata?: Record<string, unknown> }[];
  model: string | null;
  cache: 'hit' | 'miss' | 'stale';
  timings: { embedMs: number; searchMs: number; totalMs: number; shared: boolean };
}

const TEXTS = [
  'a photo of a cat',
  'sunset over mountains',
  'a red sports car',
  'bowl of fresh fruit',
  'snowy forest at dawn',
  'city skyline at night',
  'a dog playing fetch',
  'sailing boat on the sea',
  'old library with books',
  'hot air balloons',
];
const vectors = new Map<string, Float32Array>();
const images: Uint8Array[] = [];

/** `path` on the main worker, or a full URL. */
const get = (path: string, headers: Record<string, string> = {}) => fetch(path.startsWith('http') ? path : `${base}${path}`, { headers });
const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const admin = (path: string, body: unknown, method = 'POST') =>
  fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const search = async (path: string) => {
  const response = await get(path);
  expect(response.status, await response.clone().text()).toBe(200);
  return { response, body: (await response.json()) as SearchBody };
};
const searchPost = async (body: unknown) => {
  const response = await postJson('/v1/search', body);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as SearchBody;
};
const q = (text: string, params = '') => `/v1/search?q=${encodeURIComponent(text)}${params}`;
const dataUrl = (bytes: Uint8Array) => `data:image/png;base64,${Buffer.from(bytes).toString('base64')}`;
const idsOf = (body: SearchBody) => body.results.map((r) => r.id);
const ranking = (query: ArrayLike<number>, k: number, keep: (id: string) => boolean = () => true) =>
  exactRanking(
    query,
    [...vectors].filter(([id]) => keep(id)).map(([id, vector]) => ({ id, vector })),
  ).slice(0, k);

function expectRanking(body: SearchBody, expected: { id: string; score: number }[]) {
  expect(idsOf(body)).toEqual(expected.map((e) => e.id));
  body.results.forEach((r, i) => expect(r.score).toBeCloseTo(expected[i]!.score, 4));
}

/** A seeded vector, so failures reproduce. */
function seededVector(seed: number, dim: number): number[] {
  let s = seed;
  return Array.from({ length: dim }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 30 - 1;
  });
}

/** Waits until the worker's KV holds `count` query embeddings (they are written after the response). */
async function kvEmbeddings(count: number): Promise<void> {
  const kv = await stack.worker.mf.getKVNamespace('SEARCH_KV');
  await eventually(async () => ((await kv.list({ prefix: 'emb:' })).keys.length >= count ? true : undefined), `${count} KV embeddings`);
}

beforeAll(async () => {
  stack = await startStack({
    seed: 5,
    metadataIndexes: [{ propertyName: 'kind', indexType: 'string' }],
    vars: { CACHE_TTL_SECONDS: String(TTL), CACHE_SWR_SECONDS: '60', FILTERABLE_FIELDS: 'kind' },
  });
  base = stack.worker.url;
  for (let i = 0; i < 4; i++) images.push(await testImage(i + 1));

  const textRows = await stack.embedTexts(TEXTS);
  TEXTS.forEach((_, i) => vectors.set(`text-${i}`, textRows[i]!));
  for (const [i, bytes] of images.entries()) vectors.set(`image-${i}`, await stack.embedImage(bytes));
  const raw = [0, 1, 2, 3].map((i) => seededVector(i + 11, stack.dim));
  raw.forEach((v, i) => vectors.set(`vector-${i}`, Float32Array.from(v)));

  const response = await admin('/v1/items', {
    items: [
      ...TEXTS.map((text, i) => ({ id: `text-${i}`, text, metadata: { kind: 'text', n: i } })),
      ...images.map((bytes, i) => ({ id: `image-${i}`, image: dataUrl(bytes), metadata: { kind: 'photo', n: i } })),
      ...raw.map((vector, i) => ({ id: `vector-${i}`, vector, metadata: { kind: 'vector' }, ...(i >= 2 ? { namespace: 'vec' } : {}) })),
    ],
  });
  expect(response.status, await response.clone().text()).toBe(202);
  expect(await response.json()).toMatchObject({ count: 18, mutationId: expect.any(String) });
});

afterAll(async () => {
  await stack?.close();
});

describe('search results match exact cosine ranking', () => {
  it.each(['sunset over the mountains', 'A CAT photo', 'books'])('GET text query %j', async (text) => {
    const { body } = await search(q(text, '&k=5'));
    const [reference] = await stack.embedTexts([canonicalText(text)]);
    expectRanking(body, ranking(reference!, 5));
    expect(body).toMatchObject({ model: 'tiny-hf', query: { type: 'text', text: canonicalText(text), k: 5, metadata: 'none' } });
    expect(body.timings.totalMs).toBeGreaterThanOrEqual(0);
  });

  it('POST text gives the GET results', async () => {
    const posted = await searchPost({ text: 'red car', k: 4 });
    const { body } = await search(q('red car', '&k=4'));
    expect(idsOf(posted)).toEqual(idsOf(body));
  });

  it('searches by a raw image body, a data URL and plain base64 alike', async () => {
    const bytes = images[2]!;
    const raw = await fetch(`${base}/v1/search?k=6`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: bytes });
    expect(raw.status, await raw.clone().text()).toBe(200);
    const rawBody = (await raw.json()) as SearchBody;
    expectRanking(rawBody, ranking(await stack.embedImage(bytes), 6));
    expect(rawBody.results[0]!.id).toBe('image-2');
    expect(rawBody.query).toMatchObject({ type: 'image', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(idsOf(await searchPost({ image: dataUrl(bytes), k: 6 }))).toEqual(idsOf(rawBody));
    expect(idsOf(await searchPost({ image: Buffer.from(bytes).toString('base64'), k: 6 }))).toEqual(idsOf(rawBody));
  });

  it('searches by vector', async () => {
    const vector = seededVector(99, stack.dim);
    const body = await searchPost({ vector, k: 7 });
    expectRanking(body, ranking(vector, 7));
    expect(body.query).toMatchObject({ type: 'vector', dimensions: stack.dim });
  });

  it('finds more like a stored item, leaving the item out', async () => {
    const body = await searchPost({ id: 'text-3', k: 5 });
    expectRanking(body, ranking(vectors.get('text-3')!, 5, (id) => id !== 'text-3'));
  });

  it('filters on metadata and restricts to a namespace', async () => {
    const { body } = await search(q('a cat', `&k=10&metadata=indexed&filter=${encodeURIComponent('{"kind":"photo"}')}`));
    const [reference] = await stack.embedTexts(['a cat']);
    expectRanking(body, ranking(reference!, 10, (id) => id.startsWith('image-')));
    expect(body.results.every((r) => r.metadata?.kind === 'photo')).toBe(true);

    const vector = seededVector(3, stack.dim);
    const scoped = await searchPost({ vector, k: 10, namespace: 'vec' });
    expectRanking(scoped, ranking(vector, 10, (id) => id === 'vector-2' || id === 'vector-3'));
    const ranged = await searchPost({ vector, k: 10, filter: { kind: { $in: ['vector', 'photo'] } } });
    expectRanking(ranged, ranking(vector, 10, (id) => id.startsWith('vector-') || id.startsWith('image-')));
  });

  it('returns metadata at the level asked for', async () => {
    const none = (await search(q('fruit', '&k=2'))).body;
    expect(none.results.every((r) => r.metadata === undefined)).toBe(true);
    const indexed = (await search(q('fruit', '&k=2&metadata=indexed'))).body;
    expect(indexed.results.every((r) => Object.keys(r.metadata ?? {}).join() === 'kind')).toBe(true);
    const all = (await search(q('fruit', '&k=2&metadata=all'))).body;
    expect(all.results[0]!.metadata).toEqual({ kind: expect.any(String), n: expect.any(Number), model: 'tiny-hf' });
  });
});

describe('items', () => {
  it('returns a stored item, with values on request', async () => {
    const plain = await get('/v1/items/image-1');
    expect(plain.status).toBe(200);
    // Every stored vector records the model that made it (the embedder's, for an embedded item).
    expect(await plain.json()).toEqual({ id: 'image-1', metadata: { kind: 'photo', n: 1, model: 'tiny-hf' } });
    const withValues = (await (await get('/v1/items/vector-3?values=true')).json()) as { values: number[]; namespace: string };
    expect(withValues.namespace).toBe('vec');
    withValues.values.forEach((v, i) => expect(v).toBeCloseTo(vectors.get('vector-3')![i]!, 6));
  });

  it('answers 404 for unknown items, by GET and as an id query', async () => {
    const missing = await get('/v1/items/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'item_not_found', message: expect.any(String) } });
    const query = await postJson('/v1/search', { id: 'nope' });
    expect(query.status).toBe(404);
    expect(((await query.json()) as { error: { code: string } }).error.code).toBe('item_not_found');
  });
});

describe('admin API', () => {
  it('needs the admin bearer token: 401 without, 403 when wrong', async () => {
    const body = JSON.stringify({ items: [{ id: 'x', vector: seededVector(1, stack.dim) }] });
    const none = await fetch(`${base}/v1/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    const basic = await fetch(`${base}/v1/items/text-1`, { method: 'DELETE', headers: { authorization: 'Basic YTpi' } });
    expect(basic.status).toBe(401);
    for (const token of ['wrong', `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1)]) {
      const response = await fetch(`${base}/v1/items:delete`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ids: ['text-1'] }),
      });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    }
    expect((await get('/v1/items/text-1')).status).toBe(200);
  });

  it('rejects bad items without writing anything', async () => {
    const cases: [unknown, RegExp][] = [
      [{ items: [] }, /items/],
      [{ items: [{ id: 'a', text: 'x', vector: seededVector(1, stack.dim) }] }, /exactly one/],
      [{ items: [{ id: 'a' }] }, /exactly one/],
      [{ items: [{ id: 'a', text: 'x' }, { id: 'a', text: 'y' }] }, /unique/],
      [{ items: [{ id: 'a', vector: [1, 2, 3] }] }, /dimensions/],
      [{ items: [{ id: 'é'.repeat(33), text: 'x' }] }, /64 bytes/],
      [{ items: [{ id: 'a', text: 'x', metadata: { 'a.b': 1 } }] }, /metadata keys/],
      [{ items: [{ id: 'a', text: 'x', metadata: { big: 'x'.repeat(11_000) } }] }, /10240 bytes/],
      [{ items: [{ id: 'a', image: 'not base64!' }] }, /base64/],
      [{ items: [{ id: 'a', text: 'x', extra: 1 }] }, /extra|Unrecognized/i],
    ];
    for (const [body, message] of cases) {
      const response = await admin('/v1/items', body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(message);
    }
    expect((await get('/v1/items/a')).status).toBe(404);
  });

  it('deletes one item or a batch', async () => {
    const created = await admin('/v1/items', {
      items: [0, 1, 2].map((i) => ({ id: `temp-${i}`, vector: seededVector(50 + i, stack.dim) })),
    });
    expect(created.status).toBe(202);
    expect((await admin('/v1/items/temp-0', undefined, 'DELETE')).status).toBe(202);
    expect((await get('/v1/items/temp-0')).status).toBe(404);
    const batch = await admin('/v1/items:delete', { ids: ['temp-1', 'temp-2'] });
    expect(batch.status).toBe(202);
    expect(await batch.json()).toMatchObject({ mutationId: expect.any(String), count: 2 });
    expect((await get('/v1/items/temp-2')).status).toBe(404);
  });
});

describe('caching', () => {
  it('answers a repeat from the cache under a canonical key, with an ETag and 304s', async () => {
    const first = await search(q('  Hot Air   BALLOONS ', '&k=3'));
    expect(first.body.cache).toBe('miss');
    expect(first.response.headers.get('x-cache')).toBe('miss');
    const etag = first.response.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"[0-9a-f]{32}"$/);
    expect(first.response.headers.get('cache-control')).toBe(`public, max-age=${TTL}, stale-while-revalidate=60, stale-if-error=86400`);

    const second = await search(`/v1/search?metadata=none&k=3&q=hot+air+balloons`);
    expect(second.body.cache).toBe('hit');
    expect(second.response.headers.get('etag')).toBe(etag);
    expect(second.body.results).toEqual(first.body.results);
    expect(second.body.timings).toMatchObject({ embedMs: 0, searchMs: 0 });

    const notModified = await get(q('hot air balloons', '&k=3'), { 'if-none-match': etag });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('etag')).toBe(etag);
    expect(await notModified.text()).toBe('');
    expect((await get(q('hot air balloons', '&k=3'), { 'if-none-match': 'W/"other"' })).status).toBe(200);
  });

  it('caches POST searches too (vector, id)', async () => {
    const vector = seededVector(7, stack.dim);
    expect((await searchPost({ vector, k: 3 })).cache).toBe('miss');
    expect((await searchPost({ vector, k: 3 })).cache).toBe('hit');
    expect((await searchPost({ id: 'image-0', k: 3 })).cache).toBe('miss');
    expect((await searchPost({ id: 'image-0', k: 3 })).cache).toBe('hit');
  });

  it('reuses query embeddings from KV: the embedder is not asked again', async () => {
    const kv = await stack.worker.mf.getKVNamespace('SEARCH_KV');
    const before = (await kv.list({ prefix: 'emb:' })).keys.length;
    expect((await search(q('a quiet harbour', '&k=2'))).body.cache).toBe('miss');
    await kvEmbeddings(before + 1);
    const requests = await stack.embedderEmbedRequests();
    // Other result-cache keys, same canonical text: misses, but embedded from KV.
    expect((await search(q('A quiet   harbour', '&k=3'))).body.cache).toBe('miss');
    expect((await search(q('a quiet harbour', '&k=2&namespace=vec'))).body.cache).toBe('miss');
    const image = images[3]!;
    await fetch(`${base}/v1/search?k=2`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: image });
    await kvEmbeddings(before + 2);
    const afterImage = await stack.embedderEmbedRequests();
    expect(afterImage).toBe(requests + 1);
    const again = await postJson('/v1/search', { image: dataUrl(image), k: 4 });
    expect(((await again.json()) as SearchBody).cache).toBe('miss');
    expect(await stack.embedderEmbedRequests()).toBe(afterImage);
  });

  it('coalesces identical concurrent misses into one embedder call', async () => {
    const before = await stack.embedderEmbedRequests();
    const bodies = await Promise.all(Array.from({ length: 8 }, () => search(q('coalesced lighthouse query', '&k=4')).then((r) => r.body)));
    expect(await stack.embedderEmbedRequests()).toBe(before + 1);
    expect(new Set(bodies.map((b) => JSON.stringify(b.results))).size).toBe(1);
  });

  it('times a search that joined an identical one in flight by its own wait: no part exceeds its total, GET or POST', async () => {
    const concurrently = (send: () => Promise<SearchBody>) => Promise.all(Array.from({ length: 8 }, send));
    const answers = [
      ...(await concurrently(() => search(q('shared timings harbour', '&k=3')).then((r) => r.body))),
      ...(await concurrently(() => searchPost({ text: 'shared timings orchard', k: 3 }))),
      ...(await concurrently(() => searchPost({ image: dataUrl(images[1]!), k: 5 }))),
    ];
    // In hundredths of a millisecond, the timings' resolution, so that float sums do not blur the comparison.
    const hundredths = (ms: number) => Math.round(ms * 100);
    for (const { timings } of answers)
      expect(hundredths(timings.embedMs) + hundredths(timings.searchMs), JSON.stringify(timings)).toBeLessThanOrEqual(hundredths(timings.totalMs));
    // Each group had one computation; the requests that joined it say so.
    for (const group of [answers.slice(0, 8), answers.slice(8, 16), answers.slice(16)]) {
      expect(group.some((a) => a.timings.shared)).toBe(true);
      expect(new Set(group.map((a) => JSON.stringify(a.results))).size).toBe(1);
    }
    const hit = (await search(q('shared timings harbour', '&k=3'))).body;
    expect([hit.cache, hit.timings.shared]).toEqual(['hit', false]);
  });

  it('serves stale after the TTL while revalidating in the background, then hits again', async () => {
    const shortTtl = await stack.addWorker({ vars: { CACHE_TTL_SECONDS: '2', CACHE_SWR_SECONDS: '60' } });
    try {
      const path = `${shortTtl.url}${q('stale ferris wheel', '&k=2')}`;
      expect((await search(path)).body.cache).toBe('miss');
      await sleep(2300);
      const stale = await search(path);
      expect(stale.body.cache).toBe('stale');
      expect(Number(stale.response.headers.get('age'))).toBeGreaterThanOrEqual(2);
      expect(stale.response.headers.get('cache-control')).toMatch(/^public, max-age=0,/);
      await eventually(async () => ((await search(path)).body.cache === 'hit' ? true : undefined), 'the background refresh');
    } finally {
      await shortTtl.close();
    }
  });

  it('stops serving cached results once a write bumps the index version', async () => {
    const path = q('purple umbrella in the rain', '&k=1');
    expect((await search(path)).body.cache).toBe('miss');
    expect((await search(path)).body.cache).toBe('hit');
    const upsert = await admin('/v1/items', { items: [{ id: 'umbrella', text: 'purple umbrella in the rain', metadata: { kind: 'text' } }] });
    expect(upsert.status).toBe(202);
    const after = await search(path);
    expect(after.body.cache).toBe('miss');
    expect(after.body.results[0]).toMatchObject({ id: 'umbrella' });
    expect(after.body.results[0]!.score).toBeCloseTo(1, 4);
  });
});

describe('health, OpenAPI, CORS, errors', () => {
  it('reports the embedder and the index with latencies', async () => {
    const response = await get('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ok',
      worker: { ok: true },
      embedder: { ok: true, upstreams: [{ ok: true, latencyMs: expect.any(Number), circuit: 'closed' }] },
      index: { ok: true, latencyMs: expect.any(Number), dimensions: stack.dim },
    });
  });

  it('tells a client the model, its notice, the filterable fields and the limits (GET /v1/info)', async () => {
    const response = await get('/v1/info');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=60');
    const models = (await (await fetch(`${stack.embedder.url}/v1/models`, { headers: { authorization: `Bearer ${EMBEDDER_TOKEN}` } })).json()) as { data: { id: string; notice?: string }[] };
    const { id, notice } = models.data[0]!;
    // The generated tiny model has random weights, and the embedder says so.
    expect(notice).toMatch(/random/i);
    expect(await response.json()).toEqual({
      model: { id, dim: stack.dim, ...(notice ? { notice } : {}) },
      filterable: [{ name: 'kind', type: 'string' }],
      limits: { maxK: 50, maxQueryChars: 1000, maxImageBytes: 4 * 1024 * 1024, maxQueryParts: 8 },
    });
  });

  it('serves the search page at / and runs the worker first on the API\'s paths', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<script type="module" src="/search.js">');
    expect((await get('/search.js')).headers.get('content-type')).toMatch(/javascript/);
    // Paths the page does not have reach the worker, which answers them as any unknown route.
    const missing = await get('/nowhere');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('serves an OpenAPI document for every route', async () => {
    const doc = (await (await get('/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/healthz',
      '/v1/admin/index:promote',
      '/v1/backfill',
      '/v1/info',
      '/v1/items',
      '/v1/items/{id}',
      '/v1/items/{id}/thumbnail',
      '/v1/items:delete',
      '/v1/search',
      '/v1/stats',
    ]);
    expect(Object.keys(doc.paths['/v1/items']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/v1/search']!).sort()).toEqual(['get', 'post']);
  });

  it('documents the limits the routes enforce, from the same schemas', async () => {
    interface Schema { properties?: Record<string, Schema>; maxItems?: number; maxLength?: number; items?: Schema }
    const doc = (await (await get('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { parameters?: { name: string; schema: Schema }[] }>>;
      components: { schemas: Record<string, Schema> };
    };
    const maxItems = doc.components.schemas.UpsertRequest!.properties!.items!.maxItems!;
    const batch = (n: number) => ({ items: Array.from({ length: n }, (_, i) => ({ id: `limit-${i}`, vector: seededVector(i, stack.dim) })) });
    const over = await admin('/v1/items', batch(maxItems + 1));
    expect(over.status).toBe(400);
    expect(((await over.json()) as { error: { message: string } }).error.message).toMatch(/^items:/);

    const maxIds = doc.components.schemas.DeleteRequest!.properties!.ids!.maxItems!;
    expect((await admin('/v1/items:delete', { ids: Array.from({ length: maxIds + 1 }, (_, i) => `none-${i}`) })).status).toBe(400);
    expect((await admin('/v1/items:delete', { ids: Array.from({ length: maxIds }, (_, i) => `none-${i}`) })).status).toBe(202);

    const namespace = doc.paths['/v1/search']!.get!.parameters!.find((p) => p.name === 'namespace')!.schema.maxLength!;
    expect((await get(q('lamp', `&namespace=${'n'.repeat(namespace)}`))).status).toBe(200);
    expect((await get(q('lamp', `&namespace=${'n'.repeat(namespace + 1)}`))).status).toBe(400);
  });

  it('answers CORS preflights and tags responses', async () => {
    const preflight = await fetch(`${base}/v1/search`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    const response = await get(q('cors'), { origin: 'https://app.example' });
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-expose-headers')).toMatch(/ETag/);
    const failed = await get('/v1/search?k=0', { origin: 'https://app.example' });
    expect(failed.status).toBe(400);
    expect(failed.headers.get('access-control-allow-origin')).toBe('*');
  });

  const long = 'x'.repeat(1001);
  it.each<[string, number, string, string]>([
    ['no q', 400, '/v1/search', 'invalid_parameter'],
    ['a blank q', 400, '/v1/search?q=%20%20', 'invalid_parameter'],
    ['q over 1000 characters', 400, `/v1/search?q=${long}`, 'invalid_parameter'],
    ['k = 0', 400, '/v1/search?q=a&k=0', 'invalid_parameter'],
    ['k = 101', 400, '/v1/search?q=a&k=101', 'invalid_parameter'],
    ['k not a number', 400, '/v1/search?q=a&k=ten', 'invalid_parameter'],
    ['k fractional', 400, '/v1/search?q=a&k=1.5', 'invalid_parameter'],
    ['k over 50 with metadata=all', 400, '/v1/search?q=a&k=51&metadata=all', 'invalid_parameter'],
    ['an unknown metadata level', 400, '/v1/search?q=a&metadata=some', 'invalid_parameter'],
    ['a filter that is not JSON', 400, '/v1/search?q=a&filter=kind', 'invalid_parameter'],
    ['an empty filter', 400, `/v1/search?q=a&filter=${encodeURIComponent('{}')}`, 'invalid_parameter'],
    ['a filter key starting with $', 400, `/v1/search?q=a&filter=${encodeURIComponent('{"$or":1}')}`, 'invalid_parameter'],
    ['an unknown filter operator', 400, `/v1/search?q=a&filter=${encodeURIComponent('{"a":{"$regex":"x"}}')}`, 'invalid_parameter'],
    ['two lower bounds', 400, `/v1/search?q=a&filter=${encodeURIComponent('{"a":{"$gt":1,"$gte":2}}')}`, 'invalid_parameter'],
    ['a range on booleans', 400, `/v1/search?q=a&filter=${encodeURIComponent('{"a":{"$lt":true}}')}`, 'invalid_parameter'],
    ['a filter over 2 KB', 400, `/v1/search?q=a&filter=${encodeURIComponent(JSON.stringify({ a: { $in: Array.from({ length: 99 }, () => 'y'.repeat(25)) } }))}`, 'invalid_parameter'],
    ['a namespace over 64 bytes', 400, `/v1/search?q=a&namespace=${'n'.repeat(65)}`, 'invalid_parameter'],
    ['an unknown parameter', 400, '/v1/search?q=a&limit=3', 'invalid_parameter'],
    ['a repeated parameter', 400, '/v1/search?q=a&q=b', 'invalid_parameter'],
    ['an item id over 64 bytes', 400, `/v1/items/${'i'.repeat(65)}`, 'invalid_parameter'],
    ['values=maybe', 400, '/v1/items/text-1?values=maybe', 'invalid_parameter'],
    ['an unknown route', 404, '/v2/search', 'not_found'],
  ])('GET with %s → %i', async (_, status, path, code) => {
    const response = await get(path);
    expect(response.status).toBe(status);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body).toEqual({ error: { code, message: expect.any(String) } });
    expect(body.error.message).not.toMatch(/\n\s+at /);
  });

  it.each<[string, number, RequestInit, string]>([
    ['a text/plain body', 415, { body: 'cats', headers: { 'content-type': 'text/plain' } }, 'unsupported_media_type'],
    ['invalid JSON', 400, { body: '{"text":', headers: { 'content-type': 'application/json' } }, 'invalid_json'],
    ['no query field', 400, { body: '{"k":3}', headers: { 'content-type': 'application/json' } }, 'invalid_parameter'],
    ['two query fields', 400, { body: '{"text":"a","id":"b"}', headers: { 'content-type': 'application/json' } }, 'invalid_parameter'],
    ['a wrong-length vector', 400, { body: '{"vector":[1,2,3]}', headers: { 'content-type': 'application/json' } }, 'dimension_mismatch'],
    ['a vector of strings', 400, { body: '{"vector":["1"]}', headers: { 'content-type': 'application/json' } }, 'invalid_parameter'],
    ['a vector beyond float32', 400, { body: `{"vector":[1e39${',0'.repeat(31)}]}`, headers: { 'content-type': 'application/json' } }, 'invalid_parameter'],
    ['a vector over 1536 values', 400, { body: JSON.stringify({ vector: new Array(1537).fill(0) }), headers: { 'content-type': 'application/json' } }, 'invalid_parameter'],
    ['k as a string', 400, { body: '{"text":"a","k":"5"}', headers: { 'content-type': 'application/json' } }, 'invalid_parameter'],
    ['an unknown field', 400, { body: '{"text":"a","top":5}', headers: { 'content-type': 'application/json' } }, 'invalid_parameter'],
    ['an image that is not base64', 400, { body: '{"image":"%%%"}', headers: { 'content-type': 'application/json' } }, 'invalid_image'],
    ['an http image URL', 400, { body: '{"image":"http://example.com/a.png"}', headers: { 'content-type': 'application/json' } }, 'invalid_image'],
    ['a private image URL', 400, { body: '{"image":"https://127.0.0.1/a.png"}', headers: { 'content-type': 'application/json' } }, 'invalid_image'],
    ['an empty image body', 400, { body: new Uint8Array(0), headers: { 'content-type': 'image/png' } }, 'empty_image'],
    ['bytes that are no image (the embedder\'s answer)', 415, { body: new Uint8Array(64).fill(7), headers: { 'content-type': 'image/png' } }, 'unsupported_image_format'],
  ])('POST /v1/search with %s → %i', async (_, status, init, code) => {
    const response = await fetch(`${base}/v1/search`, { method: 'POST', ...init });
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ error: { code, message: expect.any(String) } });
  });

  it('rejects query parameters on a JSON search', async () => {
    const response = await postJson('/v1/search?k=3', { text: 'a' });
    expect(response.status).toBe(400);
  });
});
