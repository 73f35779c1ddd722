// Search API v2 in workerd (Miniflare) against the real embedder (tiny model)
// and the local index: signed page cursors, relevance cutoffs, combined and
// negative queries, image queries by hash, read-your-writes and
// near-duplicate removal. Every ranking is checked against exact cosine on
// the embedder's own vectors (or the stored ones), never against fixed ids.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalText } from '../../worker/lib/hash.ts';
import { eventually } from '../support/timing.ts';
import { ADMIN_TOKEN, exactRanking, startStack, testImage, type Stack } from '../support/worker-stack.ts';

const TTL = 60;
let stack: Stack;
let base: string;

interface SearchBody {
  query: Record<string, unknown>;
  results: { id: string; score: number; metadata?: Record<string, unknown> }[];
  model: string | null;
  nextCursor: string | null;
  cache: 'hit' | 'miss' | 'stale';
}
interface ErrorBody {
  error: { code: string; message: string };
}

interface Stored {
  vector: Float32Array;
  namespace?: string;
}
/** Every item in the index, as written: the exact rankings are computed over these. */
const stored = new Map<string, Stored>();
const images: Uint8Array[] = [];

const ADJECTIVES = ['red', 'quiet', 'old', 'bright', 'tall', 'small', 'busy', 'dark'];
const NOUNS = ['car', 'harbour', 'forest', 'tower', 'street'];
const TEXTS = ADJECTIVES.flatMap((a) => NOUNS.map((n) => `a ${a} ${n}`));

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
const dataUrl = (bytes: Uint8Array) => `data:image/png;base64,${Buffer.from(bytes).toString('base64')}`;
const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });
const postJson = (body: unknown) => fetch(`${base}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const admin = (body: unknown) =>
  fetch(`${base}/v1/items`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function ok(response: Response): Promise<SearchBody> {
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as SearchBody;
}
const search = async (path: string) => ok(await get(path));
const searchPost = async (body: unknown) => ok(await postJson(body));
async function refused(response: Response, status: number, code: string, message?: RegExp): Promise<void> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  const body = JSON.parse(text) as ErrorBody;
  expect(body.error.code).toBe(code);
  if (message) expect(body.error.message).toMatch(message);
}
const q = (text: string, params = '') => `/v1/search?q=${encodeURIComponent(text)}${params}`;
const idsOf = (body: SearchBody) => body.results.map((r) => r.id);

/** Exact cosine ranking of the stored items (in `namespace` only, if given). */
const ranking = (query: ArrayLike<number>, namespace?: string) =>
  exactRanking(
    query,
    [...stored].filter(([, item]) => namespace === undefined || item.namespace === namespace).map(([id, item]) => ({ id, vector: item.vector })),
  );

function expectRanking(results: SearchBody['results'], expected: { id: string; score: number }[]) {
  expect(results.map((r) => r.id)).toEqual(expected.map((e) => e.id));
  results.forEach((r, i) => expect(r.score).toBeCloseTo(expected[i]!.score, 4));
}

function seededVector(seed: number, dim: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: dim }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 30 - 1;
  });
}

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((sum, x) => sum + x * x, 0));
const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((sum, x, i) => sum + x * b[i]!, 0) / (norm(a) * norm(b));
/** The unit vector along Σ weight × unit(vector). */
function weightedSum(parts: { vector: ArrayLike<number>; weight: number }[]): Float64Array {
  const sum = new Float64Array(parts[0]!.vector.length);
  for (const { vector, weight } of parts) {
    const n = norm(vector);
    for (let i = 0; i < sum.length; i++) sum[i]! += (weight * vector[i]!) / n;
  }
  const n = norm(sum);
  return sum.map((x) => x / n);
}

const embedText = async (text: string) => (await stack.embedTexts([canonicalText(text)]))[0]!;

/** Waits until the worker's KV holds a query embedding under this suffix (`t:<sha>` or `i:<sha>`); they are written after the response. */
async function inKv(suffix: string): Promise<void> {
  const kv = await stack.worker.mf.getKVNamespace('SEARCH_KV');
  await eventually(async () => ((await kv.list({ prefix: 'emb:' })).keys.some((k) => k.name.endsWith(`:${suffix}`)) ? true : undefined), `KV embedding ${suffix}`);
}

beforeAll(async () => {
  stack = await startStack({
    seed: 9,
    metadataIndexes: [{ propertyName: 'kind', indexType: 'string' }],
    vars: { CACHE_TTL_SECONDS: String(TTL), CACHE_SWR_SECONDS: '60', CURSOR_SECRET: 'search-v2-test-cursor-secret' },
    rateLimit: false,
  });
  base = stack.worker.url;
  for (let i = 0; i < 4; i++) images.push(await testImage(i + 21));

  const items: Record<string, unknown>[] = [];
  const textRows = await stack.embedTexts(TEXTS);
  TEXTS.forEach((text, i) => {
    stored.set(`text-${i}`, { vector: textRows[i]! });
    items.push({ id: `text-${i}`, text, metadata: { kind: 'text' } });
  });
  for (const [i, bytes] of images.entries()) {
    stored.set(`image-${i}`, { vector: await stack.embedImage(bytes) });
    items.push({ id: `image-${i}`, image: dataUrl(bytes), metadata: { kind: 'photo' } });
  }
  const addVector = (id: string, vector: Float32Array, namespace?: string) => {
    stored.set(id, { vector, ...(namespace ? { namespace } : {}) });
    items.push({ id, vector: Array.from(vector), metadata: { kind: 'vector' }, ...(namespace ? { namespace } : {}) });
  };
  for (let i = 0; i < 20; i++) addVector(`vector-${i}`, seededVector(100 + i, stack.dim));
  // Near-duplicates: three groups, each a vector and copies with a little noise (cosine ≈ 0.995 to it).
  for (const [group, copies] of [['a', 3], ['b', 2], ['c', 0]] as const) {
    const original = seededVector(group.charCodeAt(0), stack.dim);
    addVector(`dup-${group}`, original, 'dups');
    for (let c = 1; c <= copies; c++) {
      const noise = seededVector(group.charCodeAt(0) * 10 + c, stack.dim);
      addVector(`dup-${group}${c}`, original.map((x, i) => x + 0.1 * noise[i]!), 'dups');
    }
  }
  // Two opposite vectors: their sum is zero.
  const v = seededVector(77, stack.dim);
  addVector('plus', v, 'opposite');
  addVector('minus', v.map((x) => -x), 'opposite');

  const response = await admin({ items });
  expect(response.status, await response.clone().text()).toBe(202);
});

afterAll(async () => {
  await stack?.close();
});

describe('pagination with signed cursors', () => {
  it('pages follow each other along the exact ranking, each cacheable', async () => {
    const text = 'a quiet harbour at night';
    const expected = ranking(await embedText(text)).slice(0, 15);
    const pages: SearchBody[] = [await search(q(text, '&k=5'))];
    for (let i = 1; i < 3; i++) pages.push(await search(q(text, `&k=5&cursor=${encodeURIComponent(pages[i - 1]!.nextCursor!)}`)));
    expectRanking(pages.flatMap((p) => p.results), expected);
    expect(pages.map((p) => p.query.offset)).toEqual([undefined, 5, 10]);
    expect(pages.every((p) => typeof p.nextCursor === 'string')).toBe(true);

    const path = q(text, `&k=5&cursor=${encodeURIComponent(pages[0]!.nextCursor!)}`);
    const again = await get(path);
    expect(again.headers.get('x-cache')).toBe('hit');
    expect(again.headers.get('cache-control')).toMatch(/^public, max-age=/);
    expect(((await again.json()) as SearchBody).results).toEqual(pages[1]!.results);
  });

  it('pages a POST search by a cursor in the body, and ends when the index has no more', async () => {
    const body = { text: 'a dark tower', k: 3, filter: { kind: 'photo' } };
    const first = await searchPost(body);
    const second = await searchPost({ ...body, cursor: first.nextCursor });
    const expected = ranking(await embedText('a dark tower')).filter((r) => r.id.startsWith('image-'));
    expectRanking([...first.results, ...second.results], expected);
    expect(second.results).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
  });

  it('refuses a cursor that was altered, made for another query, or not made here', async () => {
    const { nextCursor } = await search(q('a red car', '&k=4'));
    const cursor = nextCursor!;
    const flipped = cursor.slice(0, 5) + (cursor[5] === 'A' ? 'B' : 'A') + cursor.slice(6);
    await refused(await get(q('a red car', `&k=4&cursor=${flipped}`)), 400, 'invalid_cursor', /altered/);
    await refused(await get(q('a blue car', `&k=4&cursor=${cursor}`)), 400, 'invalid_cursor', /another query/);
    await refused(await get(q('a red car', `&k=5&cursor=${cursor}`)), 400, 'invalid_cursor', /another query/);
    await refused(await postJson({ text: 'a red car', k: 4, namespace: 'dups', cursor }), 400, 'invalid_cursor', /another query/);
    await refused(await get(q('a red car', '&k=4&cursor=bm90LWEtY3Vyc29y')), 400, 'invalid_cursor', /not one this API made/);
    // The same query and options, written differently, are the same query.
    expect((await search(`/v1/search?k=4&q=A%20RED%20%20car&metadata=none&cursor=${cursor}`)).query.offset).toBe(4);
  });

  it('goes as deep as Vectorize\'s topK cap and answers 400 past it', async () => {
    // metadata=all caps topK at 50; the index holds more than 50 items.
    expect(stored.size).toBeGreaterThan(50);
    const text = 'a bright street';
    const expected = ranking(await embedText(text)).slice(0, 50);
    const first = await search(q(text, '&k=30&metadata=all'));
    const second = await search(q(text, `&k=30&metadata=all&cursor=${first.nextCursor}`));
    // The second page stops at the cap: 20 results, and a cursor that says there are more.
    expect(second.results).toHaveLength(20);
    expectRanking([...first.results, ...second.results], expected);
    expect(second.results[0]!.metadata).toBeDefined();
    await refused(await get(q(text, `&k=30&metadata=all&cursor=${second.nextCursor}`)), 400, 'paging_limit', /first 50 results with metadata=all/);
  });
});

describe('relevance cutoffs', () => {
  const text = 'a small forest';
  let exact: { id: string; score: number }[];
  beforeAll(async () => {
    exact = ranking(await embedText(text));
  });

  it('minScore keeps the results at or above an absolute score', async () => {
    const threshold = (exact[3]!.score + exact[4]!.score) / 2;
    const body = await search(q(text, `&k=10&minScore=${threshold}`));
    expectRanking(body.results, exact.slice(0, 4));
    expect(body.nextCursor).toBeNull();
    expect(body.query.minScore).toBe(threshold);
  });

  it('within keeps the results within a margin of the best score', async () => {
    const margin = (exact[0]!.score - exact[5]!.score + (exact[0]!.score - exact[6]!.score)) / 2;
    const body = await search(q(text, `&k=20&within=${margin}`));
    expectRanking(body.results, exact.slice(0, 6));
  });

  it('cutoff=gap cuts at the largest drop between consecutive scores', async () => {
    let widest = 0;
    for (let i = 1; i < exact.length - 1; i++) if (exact[i]!.score - exact[i + 1]!.score > exact[widest]!.score - exact[widest + 1]!.score) widest = i;
    const body = await search(q(text, '&k=100&cutoff=gap'));
    expectRanking(body.results, exact.slice(0, widest + 1));
  });

  it('caches each cutoff under its own key', async () => {
    const path = q(text, '&k=5&within=0.2');
    expect((await search(path)).cache).toBe('miss');
    expect((await search(path)).cache).toBe('hit');
    expect((await search(q(text, '&k=5&within=0.25'))).cache).toBe('miss');
  });

  it.each([
    ['minScore above 1', '&minScore=1.5'],
    ['minScore not a number', '&minScore=high'],
    ['a negative within', '&within=-0.1'],
    ['an unknown cutoff', '&cutoff=elbow'],
  ])('refuses %s', async (_, params) => {
    await refused(await get(q(text, params)), 400, 'invalid_parameter');
  });
});

describe('combined and negative queries', () => {
  const partsOf = () => [
    { text: 'a quiet harbour', weight: 1 },
    { image: dataUrl(images[1]!), weight: 0.5 },
    { id: 'text-7', weight: 1 },
    { text: 'a busy street', weight: -0.7 },
  ];
  const reference = async () =>
    weightedSum([
      { vector: await embedText('a quiet harbour'), weight: 1 },
      { vector: stored.get('image-1')!.vector, weight: 0.5 },
      { vector: stored.get('text-7')!.vector, weight: 1 },
      { vector: await embedText('a busy street'), weight: -0.7 },
    ]);

  it('searches with the normalised weighted sum of the parts\' embeddings', async () => {
    const body = await searchPost({ parts: partsOf(), k: 8 });
    expectRanking(body.results, ranking(await reference()).slice(0, 8));
    expect(body.query).toMatchObject({ type: 'parts', k: 8 });
    expect(body.model).toBe('tiny-hf');
  });

  it('keys a combination canonically: parts in any order, weights at any scale', async () => {
    const first = await postJson({ parts: partsOf(), k: 6 });
    const scaled = partsOf()
      .reverse()
      .map((p) => ({ ...p, weight: p.weight * 4 }));
    const second = await postJson({ parts: scaled, k: 6 });
    expect((await ok(second)).cache).toBe('hit');
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    // A part given twice is one part with the weights added.
    const split = [...partsOf().slice(0, 2), { id: 'text-7', weight: 0.5 }, { id: 'text-7', weight: 0.5 }, partsOf()[3]];
    expect((await searchPost({ parts: split, k: 6 })).cache).toBe('hit');
  });

  it('needs no embedder when every part\'s embedding is cached (the embedder stopped)', async () => {
    await searchPost({ parts: partsOf(), k: 3 });
    await Promise.all([inKv(`t:${sha256('a quiet harbour')}`), inKv(`t:${sha256('a busy street')}`), inKv(`i:${sha256(images[1]!)}`)]);
    const expected = ranking(await reference()).slice(0, 7);
    await stack.killEmbedder();
    try {
      // A k not asked for before: a result-cache miss, every part from KV or the index.
      const body = await searchPost({ parts: partsOf(), k: 7 });
      expect(body.cache).toBe('miss');
      expectRanking(body.results, expected);
      // A part that is not cached does need the embedder, and says so.
      await refused(await postJson({ parts: [...partsOf(), { text: 'never embedded before', weight: 1 }], k: 7 }), 503, 'embedder_unavailable');
    } finally {
      await stack.restartEmbedder();
    }
    await eventually(async () => ((await get(q('the embedder is back', '&k=1'))).status === 200 ? true : undefined), 'the embedder back');
  });

  it('refuses weights that are all zero or cancel out, and parts that sum to the zero vector', async () => {
    await refused(await postJson({ parts: [{ text: 'a red car', weight: 0 }, { id: 'text-1', weight: 0 }] }), 400, 'zero_query', /weights/);
    await refused(await postJson({ parts: [{ text: 'a red car', weight: 1 }, { text: 'A  red car', weight: -1 }] }), 400, 'zero_query', /weights/);
    await refused(await postJson({ parts: [{ id: 'plus', weight: 1 }, { id: 'minus', weight: 1 }] }), 400, 'zero_query', /zero vector/);
  });

  it('refuses more parts than the documented bound, and malformed parts', async () => {
    const doc = (await (await get('/openapi.json')).json()) as { components: { schemas: Record<string, { properties: Record<string, { maxItems?: number }> }> } };
    const max = doc.components.schemas.SearchRequest!.properties.parts!.maxItems!;
    expect(max).toBeGreaterThan(1);
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `text-${i}`, weight: 1 }));
    expect((await searchPost({ parts: many(max), k: 2 })).results).toHaveLength(2);
    await refused(await postJson({ parts: many(max + 1) }), 400, 'invalid_parameter', /parts/);
    await refused(await postJson({ parts: [] }), 400, 'invalid_parameter');
    await refused(await postJson({ parts: [{ text: 'a', id: 'text-1', weight: 1 }] }), 400, 'invalid_parameter', /exactly one/);
    await refused(await postJson({ parts: [{ text: 'a', weight: 1e6 }] }), 400, 'invalid_parameter');
    await refused(await postJson({ parts: [{ text: 'a' }], text: 'b' }), 400, 'invalid_parameter', /exactly one/);
  });

  it('answers 404 for an unknown id or image hash among the parts', async () => {
    await refused(await postJson({ parts: [{ text: 'a red car', weight: 1 }, { id: 'no-such-item', weight: 1 }] }), 404, 'item_not_found', /no-such-item/);
    await refused(await postJson({ parts: [{ text: 'a red car', weight: 1 }, { image: `sha256:${'0'.repeat(64)}`, weight: 1 }] }), 404, 'image_not_found');
  });
});

describe('image queries by hash', () => {
  it('searches with the embedding of an image POSTed before, from the same cache entry', async () => {
    const bytes = images[2]!;
    const posted = await postJson({ image: dataUrl(bytes), k: 4 });
    const postedBody = await ok(posted);
    const hash = sha256(bytes);
    expect(postedBody.query).toMatchObject({ type: 'image', sha256: hash });
    const byHash = await get(`/v1/search?image=sha256:${hash}&k=4`);
    const body = await ok(byHash);
    expect(body.cache).toBe('hit');
    expect(byHash.headers.get('etag')).toBe(posted.headers.get('etag'));
    expect(byHash.headers.get('cache-control')).toMatch(/^public, max-age=/);

    await inKv(`i:${hash}`);
    const requests = await stack.embedderEmbedRequests();
    const other = await search(`/v1/search?image=sha256:${hash.toUpperCase()}&k=6`);
    expect(other.cache).toBe('miss');
    expectRanking(other.results, ranking(stored.get('image-2')!.vector).slice(0, 6));
    expect(await stack.embedderEmbedRequests()).toBe(requests);
  });

  it('knows the images stored through the admin items route', async () => {
    const bytes = await testImage(31);
    const response = await admin({ items: [{ id: 'stored-image', image: dataUrl(bytes), metadata: { kind: 'photo' } }] });
    expect(response.status).toBe(202);
    stored.set('stored-image', { vector: await stack.embedImage(bytes) });
    const body = await search(`/v1/search?image=sha256:${sha256(bytes)}&k=5`);
    expectRanking(body.results, ranking(stored.get('stored-image')!.vector).slice(0, 5));
    expect(body.results[0]).toMatchObject({ id: 'stored-image' });
  });

  it('answers 404 for an image whose embedding is unknown, saying to POST it', async () => {
    const unknown = sha256(await testImage(99));
    await refused(await get(`/v1/search?image=sha256:${unknown}`), 404, 'image_not_found', /POST the image/);
    await refused(await postJson({ image: `sha256:${unknown}` }), 404, 'image_not_found', /POST the image/);
  });

  it.each([
    ['not a sha256 reference', '/v1/search?image=abc'],
    ['a short hash', `/v1/search?image=sha256:${'a'.repeat(63)}`],
    ['both q and image', `/v1/search?q=cat&image=sha256:${'a'.repeat(64)}`],
    ['neither q nor image', '/v1/search?k=3'],
  ])('refuses %s', async (_, path) => {
    await refused(await get(path), 400, 'invalid_parameter');
  });

  it('refuses a malformed hash reference in a POST', async () => {
    await refused(await postJson({ image: 'sha256:xyz' }), 400, 'invalid_image', /sha256/);
  });
});

describe('read-your-writes', () => {
  const write = async (id: string, text: string) => {
    const response = await admin({ items: [{ id, text, metadata: { kind: 'text' } }] });
    expect(response.status).toBe(202);
    stored.set(id, { vector: await embedText(text) });
    return ((await response.json()) as { mutationId: string }).mutationId;
  };

  it('caches a search after a write once the index reports the write processed', async () => {
    const mutationId = await write('ryw-1', 'a lighthouse in the fog');
    const path = q('a lighthouse in the fog', `&k=3&after=${mutationId}`);
    const first = await get(path);
    const body = await ok(first);
    expect(first.headers.get('x-consistency')).toBe('processed');
    expect(body.cache).toBe('miss');
    expectRanking(body.results, ranking(stored.get('ryw-1')!.vector).slice(0, 3));
    expect(body.query.after).toBe(mutationId);
    const second = await get(path);
    expect((await ok(second)).cache).toBe('hit');
    expect(second.headers.get('x-consistency')).toBe('processed');
  });

  it('knows an earlier write is processed once a later one is', async () => {
    const earlier = await write('ryw-2', 'a windmill by a canal');
    await write('ryw-3', 'a glass of orange juice');
    const path = q('a windmill by a canal', `&k=2&after=${earlier}`);
    const first = await get(path);
    expect(first.headers.get('x-consistency')).toBe('processed');
    expect((await ok(first)).results[0]).toMatchObject({ id: 'ryw-2' });
    expect((await search(path)).cache).toBe('hit');
  });

  it('answers uncached, saying so, while the index does not report the write processed', async () => {
    // A well-formed mutation id the index never applied: it stays pending.
    const path = q('a red car', `&k=4&after=${randomUUID()}`);
    for (let i = 0; i < 2; i++) {
      const response = await get(path);
      const body = await ok(response);
      expect(response.headers.get('x-consistency')).toBe('pending');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(body.cache).toBe('miss');
      expectRanking(body.results, ranking(await embedText('a red car')).slice(0, 4));
    }
  });

  it.each(['12345', 'not-a-mutation-id', `${randomUUID()}x`])('refuses the malformed mutation id %j', async (after) => {
    await refused(await get(q('a red car', `&after=${encodeURIComponent(after)}`)), 400, 'invalid_parameter', /after/);
  });
});

describe('near-duplicate removal', () => {
  /** Greedy, best first, on the stored vectors: what dedupe should keep. */
  const greedy = (ranked: { id: string; score: number }[], threshold: number) => {
    const kept: { id: string; score: number }[] = [];
    for (const r of ranked) if (!kept.some((k) => cosine(stored.get(k.id)!.vector, stored.get(r.id)!.vector) >= threshold)) kept.push(r);
    return kept;
  };

  it('drops results within a cosine threshold of a better one', async () => {
    const query = Array.from(stored.get('dup-a')!.vector);
    const exact = ranking(query, 'dups');
    const all = await searchPost({ vector: query, namespace: 'dups', k: 10 });
    expectRanking(all.results, exact);
    const expected = greedy(exact, 0.98);
    expect(expected.length).toBeLessThan(exact.length);
    const distinct = await searchPost({ vector: query, namespace: 'dups', k: 10, dedupe: 0.98 });
    expectRanking(distinct.results, expected);
    expect((await searchPost({ vector: query, namespace: 'dups', k: 10, dedupe: 0.98 })).cache).toBe('hit');
  });

  it('pages through the deduplicated ranking', async () => {
    const text = 'an old harbour';
    const expected = greedy(ranking(await embedText(text)).slice(0, 50), 0.98).slice(0, 8);
    const first = await search(q(text, '&k=4&dedupe=0.98'));
    const second = await search(q(text, `&k=4&dedupe=0.98&cursor=${first.nextCursor}`));
    expectRanking([...first.results, ...second.results], expected);
  });

  it.each([
    ['dedupe = 0', '&dedupe=0'],
    ['dedupe above 1', '&dedupe=1.5'],
    ['k above 50 with dedupe', '&k=51&dedupe=0.9'],
  ])('refuses %s', async (_, params) => {
    await refused(await get(q('a red car', params)), 400, 'invalid_parameter');
  });
});

describe('the OpenAPI document', () => {
  it('describes every v2 option, the parts and the cursor', async () => {
    interface Schema {
      properties?: Record<string, Schema>;
      maxItems?: number;
    }
    const doc = (await (await get('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { parameters?: { name: string }[]; responses: Record<string, { headers?: Record<string, unknown> }> }>>;
      components: { schemas: Record<string, Schema> };
    };
    const params = doc.paths['/v1/search']!.get!.parameters!.map((p) => p.name);
    expect(params).toEqual(expect.arrayContaining(['q', 'image', 'cursor', 'minScore', 'within', 'cutoff', 'dedupe', 'after']));
    expect(Object.keys(doc.components.schemas.SearchRequest!.properties!)).toEqual(
      expect.arrayContaining(['parts', 'cursor', 'minScore', 'within', 'cutoff', 'dedupe', 'after']),
    );
    expect(doc.components.schemas.SearchResponse!.properties!.nextCursor).toBeDefined();
    expect(doc.components.schemas.QueryPart).toBeDefined();
    expect(doc.paths['/v1/search']!.get!.responses['200']!.headers).toHaveProperty('X-Consistency');
  });
});
