// A large upsert is applied to the graph a chunk at a time, with the event
// loop free between chunks: queries are answered while it goes in, the
// mutation counts as processed only once all of it is in, a mutation logged
// after it is applied after it, and a kill -9 in the middle of it loses
// nothing that was logged.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TUNING, VectorIndex, WRITE_CHUNK_ROWS } from '../../index/engine/vector-index.ts';
import { DurableIndex } from '../../index/storage/durable-index.ts';
import type { IndexConfig, Mutation } from '../../index/types.ts';
import { ndjson, spawnIndexServer, startLocalTarget, type TestVector, type VectorizeTarget } from '../support/index-server.ts';

const DIM = 64;
/** The most one request may carry; many chunks. */
const BATCH = 5000;
const INDEX = 'chunked';

interface Info {
  vectorCount: number;
  processedUpToMutation: string | null;
}

const valuesFor = (id: string): number[] => {
  let h = 2166136261;
  for (const c of id) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return Array.from({ length: DIM }, (_, i) => Math.fround(Math.sin(h + i * 7.3)));
};
const batch = (prefix: string): TestVector[] =>
  Array.from({ length: BATCH }, (_, i) => ({ id: `${prefix}-${i}`, values: valuesFor(`${prefix}-${i}`), metadata: { i } }));

/** The index routes of one server, through fetch. */
function client(send: (path: string, init?: RequestInit) => Promise<Response>) {
  const call = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const response = await send(path, init);
    const body = (await response.json()) as { success: boolean; result: T; errors: unknown[] };
    if (!body.success) throw new Error(`${path}: ${response.status} ${JSON.stringify(body.errors)}`);
    return body.result;
  };
  const json = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return {
    create: () => call('', json({ name: INDEX, config: { dimensions: DIM, metric: 'euclidean' } })),
    upsert: (vectors: TestVector[]) =>
      call<{ mutationId: string }>(`/${INDEX}/upsert`, { method: 'POST', body: ndjson(vectors), headers: { 'content-type': 'application/x-ndjson' } }),
    deleteByIds: (ids: string[]) => call<{ mutationId: string }>(`/${INDEX}/delete_by_ids`, json({ ids })),
    getByIds: (ids: string[]) => call<{ id: string; values: number[] }[]>(`/${INDEX}/get_by_ids`, json({ ids })),
    query: (vector: number[]) => call<{ count: number; matches: { id: string; score: number }[] }>(`/${INDEX}/query`, json({ vector, topK: 3 })),
    info: () => call<Info>(`/${INDEX}/info`),
  };
}
type Client = ReturnType<typeof client>;

/** Resolves with the index's info once part of a batch is in, i.e. once its count has passed `before`. */
async function partlyApplied(api: Client, before: number): Promise<Info> {
  for (;;) {
    const info = await api.info();
    if (info.vectorCount > before) return info;
  }
}

const config: IndexConfig = { name: INDEX, dimensions: DIM, metric: 'euclidean', createdOn: 'now', modifiedOn: 'now' };
const upsertOf = (vectors: TestVector[], mutationId: string): Mutation => ({
  kind: 'upsert',
  mutationId,
  timestamp: 0,
  vectors: vectors.map(({ id, metadata }) => (metadata ? { id, metadata } : { id })),
  values: Float32Array.from(vectors.flatMap((v) => v.values)),
});

describe('applying in steps', () => {
  it('takes a full request in many chunks', () => {
    expect(BATCH / WRITE_CHUNK_ROWS).toBeGreaterThanOrEqual(8);
  });

  it('ends in the state that applying at once gives (what a log replay does)', () => {
    const whole = new VectorIndex(config);
    const stepped = new VectorIndex(config);
    // Duplicate ids within the batch and ids already stored: upsert keeps the batch's last copy.
    const first = batch('d').slice(0, 50);
    const second = [...batch('d').slice(40, 90), { id: 'd-45', values: valuesFor('x'), metadata: { i: -1 } }];
    for (const index of [whole, stepped]) index.apply(upsertOf(first, 'm1'));
    whole.apply(upsertOf(second, 'm2'));
    let steps = 0;
    for (const run = stepped.applySteps(upsertOf(second, 'm2'), 7); !run.next().done; steps++)
      expect(stepped.info().processedUpToMutation).toBe('m1');
    expect(steps).toBe(Math.ceil(50 / 7) - 1);
    expect(stepped.info()).toEqual(whole.info());
    const ids = whole.listIds(1000, undefined).vectors.map((v) => v.id);
    expect(stepped.listIds(1000, undefined).vectors.map((v) => v.id)).toEqual(ids);
    expect(stepped.getByIds(ids)).toEqual(whole.getByIds(ids));
    expect(stepped.snapshotSource().records).toEqual(whole.snapshotSource().records);
    expect(stepped.getByIds(['d-45'])[0]!.metadata).toEqual({ i: -1 });
  });
});

describe('a snapshot asked for while a batch is applied', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('waits for the batch, so it holds all of it or none', async () => {
    dir = await mkdtemp(join(tmpdir(), 'index-chunked-snapshot-'));
    const silent = pino({ level: 'silent' });
    const options = { snapshotWalBytes: 1 << 30, tuning: DEFAULT_TUNING };
    const durable = await DurableIndex.open(dir, config, options, silent);
    const committed = durable.commit(upsertOf(batch('e'), 'big'));
    while (durable.index.vectorCount === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(durable.index.vectorCount).toBeLessThan(BATCH);
    await durable.snapshot();
    await committed;
    await durable.close({ snapshot: false });

    const reopened = await DurableIndex.open(dir, config, options, silent);
    expect(reopened.recovery).toMatchObject({ snapshotGeneration: 1, replayedMutations: 0 });
    expect(reopened.index.info()).toMatchObject({ vectorCount: BATCH, processedUpToMutation: 'big' });
    await reopened.close({ snapshot: false });
  });
});

describe('a large upsert over HTTP', () => {
  let target: VectorizeTarget;
  let api: Client;
  let seedMutation: string;

  beforeAll(async () => {
    target = await startLocalTarget();
    api = client(target.raw);
    await api.create();
    seedMutation = (await api.upsert([{ id: 'seed', values: valuesFor('seed') }])).mutationId;
  });
  afterAll(async () => {
    await target?.close();
  });

  it('leaves queries answered while it is applied, and is processed once all of it is in', async () => {
    const vectors = batch('a');
    const events: string[] = [];
    const upsert = api.upsert(vectors).then((r) => {
      events.push('upsert acknowledged');
      return r;
    });

    // Queries sent while the batch goes in are answered before the batch is processed.
    await partlyApplied(api, 1);
    const answer = await api.query(valuesFor('seed'));
    const atAnswer = await api.info();
    events.push('query answered');
    expect(answer.matches[0]).toEqual({ id: 'seed', score: 0 });
    expect(atAnswer.processedUpToMutation).toBe(seedMutation);
    expect(atAnswer.vectorCount).toBeGreaterThan(1);
    expect(atAnswer.vectorCount).toBeLessThan(1 + BATCH);

    const { mutationId } = await upsert;
    expect(events).toEqual(['query answered', 'upsert acknowledged']);
    expect(await api.info()).toMatchObject({ vectorCount: 1 + BATCH, processedUpToMutation: mutationId });
    const ids = vectors.map((v) => v.id);
    for (let i = 0; i < ids.length; i += 1000) expect((await api.getByIds(ids.slice(i, i + 1000))).length).toBe(1000);
    const last = vectors.at(-1)!;
    expect(await api.getByIds([last.id])).toEqual([{ id: last.id, values: last.values, metadata: { i: BATCH - 1 } }]);
    expect((await api.query(last.values)).matches[0]).toEqual({ id: last.id, score: 0 });
  });

  it('applies a delete logged during the upsert after all of the upsert', async () => {
    const { vectorCount: before } = await api.info();
    const vectors = batch('b');
    const upsert = api.upsert(vectors);
    await partlyApplied(api, before); // so the upsert is logged: the delete comes after it
    // Ids of the batch's last chunk: were the delete applied before it, they would come back.
    const doomed = vectors.slice(-100).map((v) => v.id);
    const deletion = await api.deleteByIds(doomed);
    await upsert;
    expect(await api.getByIds(doomed)).toEqual([]);
    expect(await api.info()).toMatchObject({ vectorCount: before + BATCH - doomed.length, processedUpToMutation: deletion.mutationId });
  });
});

describe('kill -9 while a large upsert is applied', () => {
  let dataDir: string;
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('replays the whole logged batch on restart', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'index-chunked-crash-'));
    const token = 'chunked-token';
    const start = async () => {
      const server = await spawnIndexServer({ INDEX_DATA_DIR: dataDir, INDEX_TOKEN: token });
      const send = (path: string, init: RequestInit = {}) =>
        fetch(`${server.url}/accounts/any/vectorize/v2/indexes${path}`, {
          ...init,
          headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) },
        });
      return { server, api: client(send) };
    };

    const vectors = batch('c');
    const first = await start();
    try {
      await first.api.create();
      const upsert = first.api.upsert(vectors).catch(() => 'cut off');
      const during = await partlyApplied(first.api, 0);
      expect(during.processedUpToMutation).toBeNull();
      await first.server.stop('SIGKILL');
      expect(await upsert).toBe('cut off');
    } finally {
      await first.server.stop('SIGKILL');
    }

    const second = await start();
    try {
      const info = await second.api.info();
      expect(info.vectorCount).toBe(BATCH);
      expect(info.processedUpToMutation).toEqual(expect.any(String));
      const sample = [vectors[0]!, vectors[BATCH / 2]!, vectors.at(-1)!];
      expect(await second.api.getByIds(sample.map((v) => v.id))).toEqual(sample);
      expect((await second.api.query(sample[2]!.values)).matches[0]).toEqual({ id: sample[2]!.id, score: 0 });
    } finally {
      await second.server.stop('SIGTERM');
    }
  }, 120_000);
});
