// The Vectorize binding adapter (worker/vectorize/rest-adapter.ts) inside
// workerd, through the `Vectorize` interface, against the real local index
// process: every method, filters, namespaces, return options, errors.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorker } from '../../scripts/worker/bundle.ts';
import { COMPATIBILITY_DATE, COMPATIBILITY_FLAGS, ensureIndex } from '../../scripts/worker/local.ts';
import { spawnIndexServer, type SpawnedServer } from '../support/index-server.ts';

const TOKEN = 'adapter-token';
let index: SpawnedServer;
let mf: Miniflare;
let dataDir: string;

type Reply<T> = { ok: true; result: T } | { ok: false; error: string; cause: unknown; isError: boolean };

async function call<T = unknown>(method: string, args: unknown[], typed?: 'float32' | 'float64'): Promise<Reply<T>> {
  const response = await mf.dispatchFetch('http://adapter/', { method: 'POST', body: JSON.stringify({ method, args, ...(typed ? { typed } : {}) }) });
  return (await response.json()) as Reply<T>;
}

async function ok<T = unknown>(method: string, args: unknown[], typed?: 'float32' | 'float64'): Promise<T> {
  const reply = await call<T>(method, args, typed);
  if (!reply.ok) throw new Error(`${method} failed: ${reply.error}`);
  return reply.result;
}

async function fails(method: string, args: unknown[]): Promise<string> {
  const reply = await call(method, args);
  expect(reply.ok).toBe(false);
  if (reply.ok) throw new Error('expected a failure');
  expect(reply.isError).toBe(true);
  return reply.error;
}

interface Match {
  id: string;
  score: number;
  values?: number[];
  metadata?: Record<string, unknown>;
  namespace?: string;
}

const VECTORS = [
  { id: 'red-small', values: [1, 0, 0, 0], metadata: { color: 'red', size: 1, note: 'unindexed' } },
  { id: 'red-big', values: [0.9, 0.1, 0, 0], metadata: { color: 'red', size: 10 } },
  { id: 'blue-small', values: [0, 1, 0, 0], metadata: { color: 'blue', size: 2 } },
  { id: 'green', values: [0.5, 0.5, 0.5, 0], metadata: { color: 'green', size: 5 } },
  { id: 'ns-a', values: [1, 0.05, 0, 0], namespace: 'alpha', metadata: { color: 'red', size: 3 } },
  { id: 'ns-b', values: [0, 0, 1, 0], namespace: 'beta' },
];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'adapter-index-'));
  const [server, script] = await Promise.all([
    spawnIndexServer({ INDEX_DATA_DIR: dataDir, INDEX_TOKEN: TOKEN }),
    bundleWorker(fileURLToPath(new URL('./fixtures/adapter-worker.ts', import.meta.url)), dataDir),
  ]);
  index = server;
  const indexUrl = `${index.url}/accounts/acc/vectorize/v2/indexes/adapter`;
  await ensureIndex({
    indexUrl,
    dimensions: 4,
    token: TOKEN,
    metadataIndexes: [
      { propertyName: 'color', indexType: 'string' },
      { propertyName: 'size', indexType: 'number' },
    ],
  });
  mf = new Miniflare({
    modules: true,
    scriptPath: script,
    modulesRoot: dirname(script),
    compatibilityDate: COMPATIBILITY_DATE,
    // The adapter sends the request id, carried by AsyncLocalStorage (nodejs_als), as the worker does.
    compatibilityFlags: COMPATIBILITY_FLAGS,
    bindings: { VECTORIZE_URL: indexUrl, VECTORIZE_TOKEN: TOKEN },
  });
  await mf.ready;
});

afterAll(async () => {
  await mf?.dispose();
  await index?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('Vectorize binding adapter in workerd', () => {
  it('describes an empty index', async () => {
    expect(await ok('describe', [])).toMatchObject({ vectorCount: 0, dimensions: 4 });
  });

  it('inserts typed-array vectors and reports the mutation as processed', async () => {
    const { mutationId } = await ok<{ mutationId: string }>('insert', [VECTORS], 'float32');
    expect(mutationId).toMatch(/^[0-9a-f-]{36}$/);
    const info = await ok<{ vectorCount: number; processedUpToMutation: unknown }>('describe', []);
    expect(info.vectorCount).toBe(VECTORS.length);
    expect(info.processedUpToMutation).toBe(mutationId);
  });

  it('skips ids that already exist on insert (first write wins)', async () => {
    await ok('insert', [[{ id: 'red-small', values: [0, 0, 0, 1], metadata: { color: 'black' } }]]);
    const [stored] = await ok<{ values: number[]; metadata: unknown }[]>('getByIds', [['red-small']]);
    expect(stored!.values).toEqual([1, 0, 0, 0]);
    expect(stored!.metadata).toEqual(VECTORS[0]!.metadata);
  });

  it('queries with defaults: top 5, best first, no values or metadata', async () => {
    const { matches, count } = await ok<{ matches: Match[]; count: number }>('query', [[1, 0, 0, 0]]);
    expect(count).toBe(matches.length);
    expect(matches).toHaveLength(5);
    expect(matches.map((m) => m.id).slice(0, 3)).toEqual(['red-small', 'ns-a', 'red-big']);
    expect(matches[0]!.score).toBeCloseTo(1, 5);
    for (let i = 1; i < matches.length; i++) expect(matches[i - 1]!.score).toBeGreaterThanOrEqual(matches[i]!.score);
    for (const m of matches) {
      expect(m.values).toBeUndefined();
      expect(m.metadata).toBeUndefined();
    }
  });

  it('accepts Float64Array queries and returns values and metadata on request', async () => {
    const { matches } = await ok<{ matches: Match[] }>('query', [[0, 1, 0, 0], { topK: 2, returnValues: true, returnMetadata: 'all' }], 'float64');
    expect(matches.map((m) => m.id)).toEqual(['blue-small', 'green']);
    expect(matches[0]!.values).toEqual([0, 1, 0, 0]);
    expect(matches[0]!.metadata).toEqual({ color: 'blue', size: 2 });
  });

  it('maps returnMetadata true to "all", keeps "indexed" to indexed properties, and sends false unchanged (rejected upstream)', async () => {
    const all = await ok<{ matches: Match[] }>('query', [[1, 0, 0, 0], { topK: 1, returnMetadata: true }]);
    expect(all.matches[0]!.metadata).toEqual({ color: 'red', size: 1, note: 'unindexed' });
    const indexed = await ok<{ matches: Match[] }>('query', [[1, 0, 0, 0], { topK: 1, returnMetadata: 'indexed' }]);
    expect(indexed.matches[0]!.metadata).toEqual({ color: 'red', size: 1 });
    expect(await fails('query', [[1, 0, 0, 0], { topK: 1, returnMetadata: false }])).toMatch(/^VECTOR_QUERY_ERROR \(code = 40026\): /);
  });

  it('filters on metadata: equality, $in, ranges, combined with AND', async () => {
    const ids = async (filter: unknown, namespace?: string) =>
      (await ok<{ matches: Match[] }>('query', [[1, 0, 0, 0], { topK: 10, filter, ...(namespace ? { namespace } : {}) }])).matches.map((m) => m.id);
    expect(await ids({ color: 'red' })).toEqual(['red-small', 'ns-a', 'red-big']);
    expect((await ids({ color: { $in: ['blue', 'green'] } })).sort()).toEqual(['blue-small', 'green']);
    expect((await ids({ size: { $gte: 2, $lt: 10 } })).sort()).toEqual(['blue-small', 'green', 'ns-a']);
    expect(await ids({ color: { $ne: 'red' }, size: { $gt: 4 } })).toEqual(['green']);
    expect(await ids({ color: 'red' }, 'alpha')).toEqual(['ns-a']);
  });

  it('restricts a query to a namespace and returns the namespace', async () => {
    const { matches } = await ok<{ matches: Match[] }>('query', [[1, 0, 0, 0], { topK: 10, namespace: 'beta', returnMetadata: 'all' }]);
    expect(matches.map((m) => m.id)).toEqual(['ns-b']);
    expect(matches[0]!.namespace).toBe('beta');
  });

  it('queries by the stored vector of an id', async () => {
    const { matches } = await ok<{ matches: Match[] }>('queryById', ['blue-small', { topK: 2 }]);
    expect(matches[0]).toMatchObject({ id: 'blue-small' });
    expect(matches[0]!.score).toBeCloseTo(1, 5);
    expect(matches[1]!.id).toBe('green');
    const filtered = await ok<{ matches: Match[] }>('queryById', ['blue-small', { topK: 3, filter: { color: 'red' } }]);
    expect(filtered.matches.every((m) => m.id.startsWith('red') || m.id === 'ns-a')).toBe(true);
    expect(await fails('queryById', ['no-such-id', {}])).toMatch(/^VECTOR_QUERY_ERROR \(code = 40005\): /);
  });

  it('gets stored vectors by id, leaving absent ids out', async () => {
    const got = await ok<{ id: string; values: number[]; namespace?: string; metadata?: unknown }[]>('getByIds', [['ns-a', 'missing', 'green']]);
    expect(got.map((v) => v.id).sort()).toEqual(['green', 'ns-a']);
    const nsA = got.find((v) => v.id === 'ns-a')!;
    expect(nsA.values[0]).toBeCloseTo(1, 6);
    expect(nsA.values[1]).toBeCloseTo(0.05, 6); // stored as float32
    expect(nsA.namespace).toBe('alpha');
  });

  it('upserts by replacing the whole vector (no metadata merge)', async () => {
    await ok('upsert', [[{ id: 'green', values: [0, 0, 0, 1], metadata: { size: 6 } }]], 'float32');
    const [green] = await ok<{ values: number[]; metadata: unknown }[]>('getByIds', [['green']]);
    expect(green).toMatchObject({ values: [0, 0, 0, 1], metadata: { size: 6 } });
    const { matches } = await ok<{ matches: Match[] }>('query', [[0, 0, 0, 1], { topK: 1 }]);
    expect(matches[0]!.id).toBe('green');
  });

  it('deletes by id', async () => {
    await ok('deleteByIds', [['ns-b', 'never-existed']]);
    expect(await ok('getByIds', [['ns-b']])).toEqual([]);
    expect((await ok<{ vectorCount: number }>('describe', [])).vectorCount).toBe(VECTORS.length - 1);
  });

  it('lists vector ids page by page (REST list-vectors, which the binding lacks)', async () => {
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const listed = await ok<{ count: number; totalCount: number; isTruncated: boolean; nextCursor?: string | null; vectors: { id: string }[] }>('listVectors', [
        { count: 2, ...(cursor ? { cursor } : {}) },
      ]);
      expect(listed).toMatchObject({ count: listed.vectors.length, totalCount: VECTORS.length - 1 });
      ids.push(...listed.vectors.map((v) => v.id));
      if (!listed.isTruncated) break;
      cursor = listed.nextCursor!;
    }
    expect(ids).toEqual(VECTORS.map((v) => v.id).filter((id) => id !== 'ns-b').sort());
    expect(await fails('listVectors', [{ count: 5000 }])).toMatch(/^VECTOR_LIST_ERROR \(code = 40026\): /);
  });

  it('throws the binding\'s errors: dimensions, topK caps, ids', async () => {
    expect(await fails('query', [[1, 0, 0]])).toMatch(/^VECTOR_QUERY_ERROR \(code = 40006\): /);
    expect(await fails('query', [[1, 0, 0, 0], { topK: 60, returnValues: true }])).toMatch(/^VECTOR_QUERY_ERROR \(code = 40025\): max top K is 50/);
    expect(await fails('insert', [[{ id: 'short', values: [1, 2] }]])).toMatch(/^VECTOR_INSERT_ERROR \(code = 40012\): /);
    expect(await fails('upsert', [[{ id: 'x'.repeat(65), values: [1, 2, 3, 4] }]])).toMatch(/^VECTOR_UPSERT_ERROR \(code = 40008\): /);
    const reply = await call('query', [[1, 0, 0]]);
    expect(reply.ok ? null : reply.cause).toMatchObject({ code: 40006, error: expect.any(String) });
  });

  it('reports an unreachable service with the operation name', async () => {
    await index.stop('SIGKILL');
    expect(await fails('describe', [])).toMatch(/^INDEX_GET_ERROR: /);
    expect(await fails('getByIds', [['green']])).toMatch(/^VECTOR_GET_ERROR: /);
  });
});
