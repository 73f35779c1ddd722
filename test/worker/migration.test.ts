// A model migration on the real local stack, step by step as worker/README.md
// tells it: two tiny CLIPs of different seeds (two models of the same
// dimensions), an embedder process for each, two indexes on one index server,
// and the worker in workerd redeployed as the procedure redeploys it (one
// KV and cache directory across the deployments). Searches keep answering,
// correctly, before, during and after the promotion: every answer is checked
// against exact cosine on the vectors its own model made. Also: listing every
// id page by page, /v1/stats, and the refusals (promotion without a next
// index or before it is filled, a bad cursor, an index searched or written
// with another model's embedders).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../embedder/model-gen/generate.ts';
import { ensureIndex, type LocalWorker } from '../../scripts/worker/local.ts';
import { canonicalText } from '../../worker/lib/hash.ts';
import { runCli } from '../backfill/cli.ts';
import { temporaryDirectory } from '../support/files.ts';
import { eventually } from '../support/timing.ts';
import { cosine } from '../support/vectors.ts';
import { startService, type ServiceProcess } from '../support/service-process.ts';
import { ADMIN_TOKEN, EMBEDDER_TOKEN, exactRanking, referenceEmbedder, startStack, testImage, type Stack } from '../support/worker-stack.ts';

const OLD = 'tiny-seed-3';
const NEW = 'tiny-seed-11';
const K = 5;

interface SearchBody {
  results: { id: string; score: number }[];
  model: string | null;
  cache: string;
}
interface IndexStats {
  index: string;
  binding: 'primary' | 'next';
  model: { id: string; dim: number } | null;
  storedModel: string | null;
  vectorCount?: number;
  dimensions?: number;
  lastMutation: { id: string; at: string } | null;
  lastMutationProcessed: boolean | null;
  error?: string;
}
interface Stats {
  indexVersion: string;
  promotion: { index: string; model: string; previous: string; promotedAt: string } | null;
  active: IndexStats;
  next: IndexStats | null;
  previous: IndexStats | null;
  warnings: string[];
}
interface Listing {
  index: string;
  ids: string[];
  count: number;
  totalCount: number;
  nextCursor: string | null;
}

const tmp = temporaryDirectory('migration-');
const persistDir = join(tmp, 'worker-state');
let stack: Stack;
let nextEmbedder: ServiceProcess;
/** Serves images for the backfill queue: /images/<n>.png is testImage(n). */
let imageServer: Server;
let imageBase: string;
let nextIndexUrl: string;
/** The deployment under test: each redeploy replaces it, keeping KV and the cache. */
let worker: LocalWorker | undefined;

/** What each index holds, as vectors made by its own model: the references rankings are checked against. */
const spaces = {
  [OLD]: { vectors: new Map<string, Float32Array>(), embedder: () => referenceEmbedder(stack.embedder.url) },
  [NEW]: { vectors: new Map<string, Float32Array>(), embedder: () => referenceEmbedder(nextEmbedder.url) },
};

const TEXTS = ['a photo of a cat', 'sunset over mountains', 'a red sports car', 'bowl of fresh fruit', 'snowy forest at dawn', 'city skyline at night', 'a dog playing fetch', 'sailing boat on the sea'];
const LATER_TEXTS = ['old library with books', 'hot air balloons'];
const QUERIES = ['cat', 'mountains at sunset', 'fast car', 'fruit', 'forest', 'skyline', 'dog', 'boat', 'books', 'balloons', 'a quiet harbour'];
const images: Uint8Array[] = [];

const dataUrl = (bytes: Uint8Array) => `data:image/png;base64,${Buffer.from(bytes).toString('base64')}`;

async function deploy(options: Parameters<Stack['addWorker']>[0] = {}): Promise<string> {
  await worker?.close();
  worker = await stack.addWorker({ persistDir, ...options });
  return worker.url;
}
const url = (path: string) => `${worker!.url}${path}`;
const admin = (path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST') =>
  fetch(url(path), {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}
const stats = async () => json<Stats>(await admin('/v1/stats'), 200);
const promote = (query = '') => admin(`/v1/admin/index:promote${query}`, undefined, 'POST');
async function expectError(response: Response, status: number, code: string, message?: RegExp) {
  const body = await json<{ error: { code: string; message: string } }>(response, status);
  expect(body.error.code).toBe(code);
  if (message) expect(body.error.message).toMatch(message);
}

const queryEmbeddings = new Map<string, Float32Array>();
/** A text search, checked against exact cosine on the vectors of the model that answered; returns that model. */
async function checkedSearch(text: string): Promise<string> {
  const response = await fetch(url(`/v1/search?q=${encodeURIComponent(text)}&k=${K}`));
  const body = await json<SearchBody>(response, 200);
  expect([OLD, NEW]).toContain(body.model);
  const space = spaces[body.model as keyof typeof spaces];
  const key = `${body.model}\n${text}`;
  if (!queryEmbeddings.has(key)) queryEmbeddings.set(key, (await space.embedder().embedTexts([canonicalText(text)]))[0]!);
  const expected = exactRanking(queryEmbeddings.get(key)!, [...space.vectors].map(([id, vector]) => ({ id, vector }))).slice(0, K);
  expect(body.results.map((r) => r.id), `${text} (${body.model})`).toEqual(expected.map((e) => e.id));
  body.results.forEach((r, i) => expect(r.score).toBeCloseTo(expected[i]!.score, 4));
  return body.model!;
}

/** Every id of the active index, page by page. */
async function listAll(count: number, namespace?: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query = new URLSearchParams({ count: String(count), ...(namespace ? { namespace } : {}), ...(cursor ? { cursor } : {}) });
    const page: Listing = await json<Listing>(await admin(`/v1/items?${query}`), 200);
    expect(page.count).toBe(page.ids.length);
    ids.push(...page.ids);
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  return { ids, pages };
}

/** A generated tiny CLIP whose model id (its directory's name) says its seed. */
function tinyModel(seed: number, name: string): string {
  const [layout] = generate({ arch: 'tiny', outDir: join(tmp, `gen-${seed}`), seed, layouts: ['hf'] });
  const dir = join(tmp, 'models', name);
  mkdirSync(join(tmp, 'models'), { recursive: true });
  renameSync(layout!.dir, dir);
  return dir;
}

beforeAll(async () => {
  const oldModel = tinyModel(3, OLD);
  const newModel = tinyModel(11, NEW);
  imageServer = createServer((request, response) => {
    const n = /^\/images\/(\d+)\.png$/.exec(request.url ?? '')?.[1];
    if (!n) return void response.writeHead(404).end();
    void testImage(Number(n)).then((png) => response.writeHead(200, { 'content-type': 'image/png' }).end(png));
  });
  await new Promise<void>((resolve) => imageServer.listen(0, '127.0.0.1', resolve));
  imageBase = `http://127.0.0.1:${(imageServer.address() as AddressInfo).port}/images`;
  [stack, nextEmbedder] = await Promise.all([
    startStack({ modelDir: oldModel, indexName: 'search', vars: { CACHE_TTL_SECONDS: '60', ALLOW_PRIVATE_IMAGE_URLS: '1' } }),
    startService('embedder/main.ts', { MODEL_DIR: newModel, EMBEDDER_TOKEN, EMBEDDER_PORT: '0', EMBEDDER_BATCH_WAIT_MS: '1', EMBEDDER_THREADS: '1' }, 'embedder ready'),
  ]);
  nextIndexUrl = stack.indexUrl.replace(/\/search$/, '/search-next');
  for (let i = 0; i < 4; i++) images.push(await testImage(i + 1));
}, 180_000);

afterAll(async () => {
  await worker?.close();
  await Promise.allSettled([stack?.close(), nextEmbedder?.stop(), new Promise((resolve) => imageServer?.close(resolve))]);
});

describe('a model migration', () => {
  it('before: one index and one model; writes record the model, and promoting without a next index is refused', async () => {
    await deploy();
    const written = await json<{ mutationId: string; count: number; indexes?: unknown }>(
      await admin('/v1/items', {
        items: [
          ...TEXTS.map((text, i) => ({ id: `text-${i}`, text, metadata: { kind: 'text' } })),
          ...images.slice(0, 3).map((bytes, i) => ({ id: `image-${i}`, image: dataUrl(bytes), metadata: { kind: 'photo' } })),
        ],
      }),
      202,
    );
    expect(written.count).toBe(11);
    expect(written.indexes).toBeUndefined();
    const old = spaces[OLD];
    (await old.embedder().embedTexts(TEXTS)).forEach((v, i) => old.vectors.set(`text-${i}`, v));
    for (const [i, bytes] of images.slice(0, 3).entries()) old.vectors.set(`image-${i}`, await old.embedder().embedImage(bytes));

    for (const text of QUERIES.slice(0, 4)) expect(await checkedSearch(text)).toBe(OLD);
    const item = await json<{ metadata: Record<string, unknown> }>(await fetch(url('/v1/items/image-1')), 200);
    expect(item.metadata).toEqual({ kind: 'photo', model: OLD });

    const before = await stats();
    expect(before).toMatchObject({
      promotion: null,
      next: null,
      previous: null,
      warnings: [],
      active: {
        index: 'search',
        binding: 'primary',
        model: { id: OLD, dim: stack.dim },
        storedModel: OLD,
        vectorCount: 11,
        dimensions: stack.dim,
        lastMutation: { id: written.mutationId },
        lastMutationProcessed: true,
      },
    });
    await expectError(await promote(), 400, 'no_next_index', /VECTORIZE_NEXT/);
  });

  it('during: writes go to both indexes, each embedded by its own model; searches stay on the old index; promotion waits for the backfill', async () => {
    // Steps 1-3: create the next index, bind it, deploy with its embedders.
    expect(await ensureIndex({ indexUrl: nextIndexUrl, dimensions: stack.dim })).toBe('created');
    await deploy({ next: { vectorizeUrl: nextIndexUrl, embedderUrls: [nextEmbedder.url] } });
    for (const text of QUERIES.slice(0, 4)) expect(await checkedSearch(text)).toBe(OLD);

    const old = spaces[OLD];
    const neu = spaces[NEW];
    const harbour = 'a quiet harbour';
    const [oldHarbour] = await old.embedder().embedTexts([harbour]);
    const [newHarbour] = await neu.embedder().embedTexts([harbour]);
    const written = await json<{ mutationId: string; indexes: { index: string; mutationId: string; count: number }[] }>(
      await admin('/v1/items', {
        items: [
          ...LATER_TEXTS.map((text, i) => ({ id: `text-${8 + i}`, text, metadata: { kind: 'text' }, ...(i === 1 ? { namespace: 'shelf' } : {}) })),
          { id: 'image-3', image: dataUrl(images[3]!), metadata: { kind: 'photo' } },
          // A vector is in one model's space: the active one's unless its metadata names another.
          { id: 'vector-old', vector: Array.from(oldHarbour!), metadata: { kind: 'vector' } },
          { id: 'vector-new', vector: Array.from(newHarbour!), metadata: { kind: 'vector', model: NEW } },
        ],
      }),
      202,
    );
    expect(written.indexes.map(({ index, count }) => ({ index, count }))).toEqual([
      { index: 'search', count: 4 },
      { index: 'search-next', count: 4 },
    ]);
    expect(written.mutationId).toBe(written.indexes[0]!.mutationId);
    (await old.embedder().embedTexts(LATER_TEXTS)).forEach((v, i) => old.vectors.set(`text-${8 + i}`, v));
    (await neu.embedder().embedTexts(LATER_TEXTS)).forEach((v, i) => neu.vectors.set(`text-${8 + i}`, v));
    old.vectors.set('image-3', await old.embedder().embedImage(images[3]!));
    neu.vectors.set('image-3', await neu.embedder().embedImage(images[3]!));
    old.vectors.set('vector-old', oldHarbour!);
    neu.vectors.set('vector-new', newHarbour!);

    await expectError(
      await admin('/v1/items', { items: [{ id: 'stray', vector: Array.from(newHarbour!), metadata: { model: 'some-other-model' } }] }),
      400,
      'model_mismatch',
      /tiny-seed-3 \(search\) and tiny-seed-11 \(search-next\)/,
    );
    for (const text of [...QUERIES.slice(8), harbour]) expect(await checkedSearch(text)).toBe(OLD);

    // The backfill queue's consumer writes to both indexes too, each image embedded by each index's embedders.
    const queued = await json<{ queued: number }>(await admin('/v1/backfill', { items: [{ id: 'queued-9', url: `${imageBase}/9.png`, metadata: { kind: 'photo' } }] }), 202);
    expect(queued.queued).toBe(1);
    const png = await testImage(9);
    old.vectors.set('queued-9', await old.embedder().embedImage(png));
    neu.vectors.set('queued-9', await neu.embedder().embedImage(png));
    await eventually(async () => {
      const { active, next } = await stats();
      return active.vectorCount === 16 && next?.vectorCount === 5 ? true : undefined;
    }, 'the queued image in both indexes');
    for (const [indexUrl, model] of [[stack.indexUrl, OLD], [nextIndexUrl, NEW]] as const) {
      const response = await fetch(`${indexUrl}/get_by_ids`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: ['queued-9'] }) });
      const [stored] = (await json<{ result: { values: number[]; metadata: Record<string, unknown> }[] }>(response, 200)).result;
      expect(stored!.metadata).toEqual({ kind: 'photo', model, bytes: png.byteLength });
      expect(cosine(stored!.values, spaces[model].vectors.get('queued-9')!)).toBeGreaterThan(0.99999);
    }

    const during = await stats();
    expect(during).toMatchObject({
      promotion: null,
      previous: null,
      active: { index: 'search', model: { id: OLD }, storedModel: OLD, vectorCount: 16, lastMutationProcessed: true },
      next: {
        index: 'search-next',
        binding: 'next',
        model: { id: NEW, dim: stack.dim },
        storedModel: NEW,
        vectorCount: 5,
        lastMutationProcessed: true,
      },
    });
    await expectError(await promote(), 409, 'next_index_not_ready', /holds 5 vectors, the active index search 16/);
  });

  it('backfill: the CLI fills the next index with the next embedders (--index search-next)', async () => {
    const dir = join(tmp, 'collection');
    mkdirSync(dir, { recursive: true });
    images.slice(0, 3).forEach((bytes, i) => writeFileSync(join(dir, `image-${i}.png`), bytes));
    const manifest = [
      ...TEXTS.map((text, i) => ({ id: `text-${i}`, text, metadata: { kind: 'text' } })),
      ...[0, 1, 2].map((i) => ({ id: `image-${i}`, path: `image-${i}.png`, metadata: { kind: 'photo' } })),
    ];
    writeFileSync(join(dir, 'items.jsonl'), `${manifest.map((line) => JSON.stringify(line)).join('\n')}\n`);
    const { code, stdout, stderr } = await runCli(
      ['collection/items.jsonl', '--index', 'search-next', '--index-url', stack.index.url, '--embedder', nextEmbedder.url],
      { cwd: tmp, env: { EMBEDDER_TOKEN } },
    );
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/indexed 11\b/);
    const neu = spaces[NEW];
    (await neu.embedder().embedTexts(TEXTS)).forEach((v, i) => neu.vectors.set(`text-${i}`, v));
    for (const [i, bytes] of images.slice(0, 3).entries()) neu.vectors.set(`image-${i}`, await neu.embedder().embedImage(bytes));

    const filled = await stats();
    expect(filled.next).toMatchObject({ vectorCount: 16, storedModel: NEW, lastMutationProcessed: true });
    expect(filled.active).toMatchObject({ vectorCount: 16 });
    // Searches still use the old index and its model.
    expect(await checkedSearch('cat')).toBe(OLD);
  });

  it('promotion: searches switch to the next index and its model at once, and keep answering correctly throughout', async () => {
    // A listing cursor of the old index, to try after the switch.
    const firstPage = await json<Listing>(await admin('/v1/items?count=4'), 200);
    expect(firstPage).toMatchObject({ index: 'search', totalCount: 16 });

    let promoted = false;
    const seen: string[][] = [[], [], []];
    // Three clients searching one after another, each until it has had four answers after the promotion.
    const loops = seen.map(async (models, loop) => {
      let afterwards = 0;
      for (let i = 0; afterwards < 4 && i < 200; i++) {
        const sentAfterPromotion = promoted;
        const model = await checkedSearch(`${QUERIES[(loop * 5 + i) % QUERIES.length]} ${i % 4}`);
        models.push(model);
        // Once the promotion has answered, nothing may search the old index any more.
        if (sentAfterPromotion) {
          expect(model).toBe(NEW);
          afterwards++;
        }
      }
    });
    while (!seen.every((models) => models.length >= 2)) await new Promise((resolve) => setTimeout(resolve, 5));
    const response = await json<{ active: { index: string; model: string; vectorCount: number }; previous: { index: string }; indexVersion: string }>(
      await promote(),
      200,
    );
    promoted = true;
    expect(response).toMatchObject({ active: { index: 'search-next', model: NEW, vectorCount: 16 }, previous: { index: 'search', vectorCount: 16 } });
    await Promise.all(loops);
    for (const models of seen) {
      // Old answers, then new ones: one switch, never back.
      const switchAt = models.indexOf(NEW);
      expect(switchAt, models.join()).toBeGreaterThan(0);
      expect(models.slice(switchAt).every((m) => m === NEW), models.join()).toBe(true);
    }

    // Every cache key moved: a query answered from the old index before is computed anew.
    const again = await json<SearchBody>(await fetch(url(`/v1/search?q=cat&k=${K}`)), 200);
    expect(again).toMatchObject({ model: NEW, cache: 'miss' });
    expect(await checkedSearch('cat')).toBe(NEW);

    await expectError(await promote(), 409, 'already_promoted', /redeploy/);
    await expectError(await admin(`/v1/items?count=4&cursor=${firstPage.nextCursor}`), 400, 'invalid_cursor', /promoted/);

    const after = await stats();
    expect(after).toMatchObject({
      indexVersion: response.indexVersion,
      promotion: { index: 'search-next', model: NEW, previous: 'search' },
      active: { index: 'search-next', binding: 'next', model: { id: NEW }, storedModel: NEW },
      previous: { index: 'search', binding: 'primary', model: { id: OLD }, storedModel: OLD },
      next: null,
      warnings: [],
    });

    // Until a redeploy removes it, the previous index is still written, with its own model.
    const written = await json<{ indexes: { index: string }[] }>(await admin('/v1/items', { items: [{ id: 'text-10', text: 'a lighthouse in a storm' }] }), 202);
    expect(written.indexes.map((w) => w.index)).toEqual(['search-next', 'search']);
    spaces[NEW].vectors.set('text-10', (await spaces[NEW].embedder().embedTexts(['a lighthouse in a storm']))[0]!);
    spaces[OLD].vectors.set('text-10', (await spaces[OLD].embedder().embedTexts(['a lighthouse in a storm']))[0]!);
    expect(await checkedSearch('lighthouse')).toBe(NEW);
    const item = await json<{ metadata: Record<string, unknown> }>(await fetch(url('/v1/items/text-10')), 200);
    expect(item.metadata).toEqual({ model: NEW });
  });

  it('after: a redeploy with the next index as the primary one goes on searching it, with no record to reset', async () => {
    await deploy({ vectorizeUrl: nextIndexUrl, embedderUrls: [nextEmbedder.url] });
    for (const text of QUERIES.slice(0, 5)) expect(await checkedSearch(text)).toBe(NEW);
    expect(await stats()).toMatchObject({
      promotion: { index: 'search-next' },
      active: { index: 'search-next', binding: 'primary', model: { id: NEW }, storedModel: NEW, vectorCount: 17 },
      next: null,
      previous: null,
      warnings: [],
    });
    await expectError(await promote(), 400, 'no_next_index');
  });

  it('lists every id of the active index exactly once, page by page, and by namespace', async () => {
    const expected = [...spaces[NEW].vectors.keys()].sort();
    for (const count of [1, 4, 100]) {
      const { ids, pages } = await listAll(count);
      expect(ids.length, `count=${count}`).toBe(expected.length);
      expect([...ids].sort()).toEqual(expected);
      expect(pages).toBe(Math.ceil(expected.length / count));
    }
    expect((await listAll(3, 'shelf')).ids).toEqual(['text-9']);
    expect((await listAll(3, 'nowhere')).ids).toEqual([]);
  });

  it('refuses bad listing input with clear errors', async () => {
    const first = await json<Listing>(await admin('/v1/items?count=2'), 200);
    expect(first.nextCursor).toEqual(expect.any(String));
    await expectError(await admin('/v1/items?cursor=not%20a%20cursor'), 400, 'invalid_cursor', /nextCursor/);
    await expectError(await admin(`/v1/items?cursor=${Buffer.from('{"v":1}').toString('base64url')}`), 400, 'invalid_cursor');
    await expectError(await admin(`/v1/items?cursor=${first.nextCursor}&namespace=shelf`), 400, 'invalid_cursor', /same namespace/);
    await expectError(await admin('/v1/items?count=0'), 400, 'invalid_parameter', /count/);
    await expectError(await admin('/v1/items?count=1001'), 400, 'invalid_parameter', /count/);
    await expectError(await admin('/v1/items?limit=5'), 400, 'invalid_parameter');
    await expectError(await fetch(url('/v1/items')), 401, 'unauthorized');
    await expectError(await fetch(url('/v1/stats')), 401, 'unauthorized');
    await expectError(await fetch(url('/v1/admin/index:promote'), { method: 'POST', headers: { authorization: 'Bearer wrong' } }), 403, 'forbidden');
  });

  it('never searches or writes an index with another model: embedders of the wrong model are refused', async () => {
    // The next index, redeployed by mistake with the old model's embedders.
    await deploy({ vectorizeUrl: nextIndexUrl, embedderUrls: [stack.embedder.url] });
    await expectError(await fetch(url('/v1/search?q=cat')), 502, 'model_mismatch', /holds vectors of model tiny-seed-11, but its embedders serve tiny-seed-3/);
    await expectError(await admin('/v1/items', { items: [{ id: 'wrong', text: 'should not be written' }] }), 502, 'model_mismatch');
    expect((await stats()).warnings).toEqual([expect.stringMatching(/holds vectors of tiny-seed-11 but its embedders serve tiny-seed-3/)]);
    expect((await json<Listing>(await admin('/v1/items?count=100'), 200)).ids).not.toContain('wrong');
  });
});
