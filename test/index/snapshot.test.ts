// Snapshots in the binary, block-at-a-time format (index/storage/snapshot.ts):
// what is written is read back exactly, writes that go on while a snapshot is
// written do not leak into it, the JSON format of earlier versions still
// loads and is replaced by the next snapshot, and a truncated or corrupt
// snapshot is refused as before: the index answers 500 until repaired.
import { copyFile, mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TUNING, VectorIndex, type SearchTuning } from '../../index/engine/vector-index.ts';
import { DurableIndex, type DurabilityOptions } from '../../index/storage/durable-index.ts';
import { readSnapshot, SNAPSHOT_MAGIC, snapshotFile, writeSnapshot } from '../../index/storage/snapshot.ts';
import type { IndexConfig, Mutation } from '../../index/types.ts';
import { temporaryDirectory } from '../support/files.ts';
import { startLocalTarget } from '../support/index-server.ts';

const silent = pino({ level: 'silent' });
const DIM = 6;
const config: IndexConfig = { name: 'snap', dimensions: DIM, metric: 'cosine', createdOn: 'then', modifiedOn: 'then' };
// Small indexes are searched exactly: answers compare equal whatever graph a restore built.
const tuning: SearchTuning = DEFAULT_TUNING;
const options: DurabilityOptions = { snapshotWalBytes: 1 << 30, tuning };

let n = 0;
const stamp = () => ({ mutationId: `m${++n}`, timestamp: 1_700_000_000_000 + n });
const vectorFor = (id: string): number[] => Array.from({ length: DIM }, (_, i) => Math.fround(Math.sin(id.length * 31 + id.charCodeAt(0) + i * 1.7)));
const upsert = (ids: string[], extra: (id: string) => { namespace?: string; metadata?: Record<string, unknown> } = () => ({})): Mutation => ({
  kind: 'upsert',
  ...stamp(),
  vectors: ids.map((id) => ({ id, ...extra(id) })),
  values: Float32Array.from(ids.flatMap(vectorFor)),
});
const del = (ids: string[]): Mutation => ({ kind: 'delete', ...stamp(), ids });
const createIndex = (propertyName: string): Mutation => ({ kind: 'createMetadataIndex', ...stamp(), propertyName, indexType: 'string' });
const dropIndex = (propertyName: string): Mutation => ({ kind: 'deleteMetadataIndex', ...stamp(), propertyName });

/** A varied index: namespaces, nested and non-ASCII metadata, indexed values, ids that need escaping, holes from deletes. */
function varied(count: number, into = new VectorIndex(config, tuning)): VectorIndex {
  into.apply(createIndex('colour'));
  const ids = Array.from({ length: count }, (_, i) => (i % 5 === 0 ? `ünï/${i}` : `v${i}`));
  into.apply(
    upsert(ids, (id) => {
      const i = Number(id.replace(/\D/g, ''));
      return {
        ...(i % 3 === 0 ? { namespace: `ns${i % 4}` } : {}),
        ...(i % 7 === 6 ? {} : { metadata: { colour: ['red', 'grün', 'blue'][i % 3], i, nested: { deep: [i, 'é'] } } }),
      };
    }),
  );
  into.apply(del(ids.filter((_, i) => i % 11 === 4)));
  return into;
}

/** Everything a client can observe of an index, as plain data. */
function observe(index: VectorIndex) {
  const ids = index.listIds(1000, undefined).vectors.map((v) => v.id);
  const query = Float32Array.from(vectorFor('probe'));
  return {
    info: index.info(),
    metadataIndexes: index.metadataIndexes(),
    vectors: index.getByIds(ids),
    red: index.query({ vector: query, topK: 50, returnValues: false, returnMetadata: 'indexed', filter: [{ key: 'colour', op: 'eq', value: 'red' }] }),
    ns1: index.query({ vector: query, topK: 50, returnValues: true, returnMetadata: 'all', namespace: 'ns1' }),
  };
}

/** Reads a snapshot file into a fresh index, as a start does. */
async function load(path: string): Promise<VectorIndex> {
  const index = new VectorIndex(config, tuning);
  await readSnapshot(path, { begin: (h) => index.beginRestore(h.meta, h.vectorCount), rows: (records, values) => index.restoreRows(records, values) });
  index.finishRestore(() => false);
  return index;
}

describe('the binary snapshot format', () => {
  it('reads back exactly what it wrote, block by block', async () => {
    const dir = temporaryDirectory('snapshot-', 'test');
    const index = varied(100);
    const source = index.snapshotSource();
    await writeSnapshot(dir, 1, DIM, source, false, 7); // 7 rows a block: many blocks, the last one short
    source.release();
    const data = await readFile(snapshotFile(dir, 1));
    expect(data.subarray(0, SNAPSHOT_MAGIC.length)).toEqual(SNAPSHOT_MAGIC);
    expect(observe(await load(snapshotFile(dir, 1)))).toEqual(observe(index));
  });

  it('writes and reads an index with no vectors left', async () => {
    const dir = temporaryDirectory('snapshot-', 'test');
    const index = varied(10);
    index.apply(del(index.listIds(100, undefined).vectors.map((v) => v.id)));
    const source = index.snapshotSource();
    await writeSnapshot(dir, 1, DIM, source, false);
    source.release();
    const loaded = await load(snapshotFile(dir, 1));
    expect(observe(loaded)).toEqual(observe(index));
    expect(loaded.info().processedUpToMutation).toBe(index.info().processedUpToMutation);
  });

  it('holds the index as it was when taken, while upserts, deletes, inserts and a dropped metadata index go on', async () => {
    const index = varied(60);
    const before = observe(index);
    const source = index.snapshotSource();
    const rows = new Float32Array(source.records.length * DIM);
    source.copyRows(0, 10, rows.subarray(0, 10 * DIM)); // a first block is read before anything changes
    const ids = before.vectors.map((v) => v.id);
    index.apply(upsert(ids.slice(0, 30), () => ({ metadata: { colour: 'changed' } }))); // rows overwritten in place
    index.apply(del(ids.slice(30, 45))); // holes filled from the end, the end given up
    index.apply(upsert(['new-1', 'new-2', 'new-3'])); // rows given up, reused
    index.apply(dropIndex('colour'));
    source.copyRows(10, source.records.length, rows.subarray(10 * DIM));
    const frozen = new VectorIndex(config, tuning);
    frozen.beginRestore(source.meta, source.records.length);
    frozen.restoreRows(source.records, rows);
    frozen.finishRestore(() => false);
    source.release();
    expect(observe(frozen)).toEqual(before);
    expect(observe(index)).not.toEqual(before);
    index.snapshotSource().release(); // released: the next snapshot can begin
  });
});

describe('snapshots of a durable index', () => {
  it('cover the writes before the cut and none after, however the two interleave', async () => {
    const dir = temporaryDirectory('snapshot-', 'test');
    const durable = await DurableIndex.open(dir, config, options, silent);
    await durable.commit(createIndex('colour'));
    for (let i = 0; i < 20; i++) await durable.commit(upsert([`a${i}`, `b${i}`], (id) => ({ metadata: { colour: id.startsWith('a') ? 'red' : 'blue' } })));
    const atCut = observe(durable.index);
    const snapshot = durable.snapshot();
    const later = [durable.commit(upsert(['a1', 'late'], () => ({ metadata: { colour: 'late' } }))), durable.commit(del(['b2', 'b3'])), durable.commit(dropIndex('colour'))];
    await Promise.all([snapshot, ...later]);
    const generation = Math.max(...(await readdir(dir)).map((f) => Number(/^snapshot-(\d+)\.bin$/.exec(f)?.[1] ?? -1)));
    expect(observe(await load(snapshotFile(dir, generation)))).toEqual(atCut);
    const reopened = await DurableIndex.open(dir, config, options, silent);
    expect(reopened.recovery.replayedMutations).toBe(3);
    expect(observe(reopened.index)).toEqual(observe(durable.index));
    await durable.close({ snapshot: false });
    await reopened.close({ snapshot: false });
  });
});

describe('snapshots written by earlier versions (JSON records)', () => {
  const fixture = new URL('./fixtures/snapshot-v1/', import.meta.url).pathname;
  const legacyConfig = async () => JSON.parse(await readFile(join(fixture, 'config.json'), 'utf8')) as IndexConfig;
  async function copyFixture(): Promise<string> {
    const dir = join(temporaryDirectory('snapshot-v1-', 'test'), 'legacy');
    await mkdir(dir);
    for (const f of await readdir(fixture)) await copyFile(join(fixture, f), join(dir, f));
    return dir;
  }

  it('load with their saved graph, and the next snapshot rewrites them in the binary format', async () => {
    const dir = await copyFixture();
    const legacy = await DurableIndex.open(dir, await legacyConfig(), options, silent);
    expect(legacy.recovery).toMatchObject({ snapshotGeneration: 1, graphRebuilt: false, replayedMutations: 0 });
    expect(legacy.index.info()).toMatchObject({ vectorCount: 4, processedUpToMutation: 'm3' });
    expect(legacy.index.metadataIndexes()).toEqual([{ propertyName: 'colour', indexType: 'string' }]);
    expect(legacy.index.getByIds(['red-circle', 'blue-square', 'ünïcödé/id', 'plain', 'doomed'])).toEqual([
      { id: 'red-circle', values: [1, 0, 0, 0], metadata: { colour: 'red', shape: 'circle', tags: ['a', 'b'] } },
      { id: 'blue-square', values: [0, 1, 0, 0], metadata: { colour: 'blue', nested: { size: 3 } }, namespace: 'shapes' },
      { id: 'ünïcödé/id', values: [0, 0, 1, 0], metadata: { colour: 'green' } },
      { id: 'plain', values: [0.5, 0.5, 0.5, 0.5] },
    ]);
    const red = legacy.index.query({ vector: Float32Array.from([1, 1, 1, 1]), topK: 5, returnValues: false, returnMetadata: 'indexed', filter: [{ key: 'colour', op: 'eq', value: 'red' }] });
    expect(red.map((m) => [m.id, m.metadata])).toEqual([['red-circle', { colour: 'red' }]]);

    await legacy.commit({ kind: 'upsert', ...stamp(), vectors: [{ id: 'written-after' }], values: Float32Array.from([0, 0, 0, 1]) });
    await legacy.close({ snapshot: true });
    const files = await readdir(dir);
    expect(files.filter((f) => f.startsWith('snapshot-'))).toEqual(['snapshot-2.bin']);
    expect((await readFile(join(dir, 'snapshot-2.bin'))).subarray(0, SNAPSHOT_MAGIC.length)).toEqual(SNAPSHOT_MAGIC);
    const upgraded = await DurableIndex.open(dir, await legacyConfig(), options, silent);
    expect(upgraded.index.vectorCount).toBe(5);
    expect(upgraded.index.getByIds(['blue-square'])[0]).toMatchObject({ namespace: 'shapes', metadata: { colour: 'blue', nested: { size: 3 } } });
    await upgraded.close({ snapshot: false });
  });
});

describe('a damaged snapshot', () => {
  /** A data directory whose index has a three-block snapshot; returns the snapshot's path. */
  async function snapshotted(): Promise<{ dir: string; path: string; blockStarts: number[] }> {
    const dir = temporaryDirectory('snapshot-damage-', 'test');
    const index = varied(30);
    const source = index.snapshotSource();
    await writeSnapshot(dir, 1, DIM, source, false, 10);
    source.release();
    const path = snapshotFile(dir, 1);
    // Walk the frames: magic, header, then the blocks.
    const data = await readFile(path);
    const starts: number[] = [];
    for (let at = SNAPSHOT_MAGIC.length; at < data.length; at += 8 + data.readUInt32LE(at)) starts.push(at);
    return { dir, path, blockStarts: starts.slice(1) };
  }

  it.each<[string, (path: string, blockStarts: number[]) => Promise<void>, RegExp]>([
    ['cut inside a block', async (path, [, second]) => truncate(path, second! + 20), /torn frame/],
    ['cut after a whole block', async (path, [, , third]) => truncate(path, third!), /20 vectors, the header declares 27/],
    ['cut inside its header', async (path) => truncate(path, SNAPSHOT_MAGIC.length + 12), /torn frame/],
    [
      'with a flipped byte',
      async (path, [first]) => {
        const data = await readFile(path);
        data[first! + 100] = data[first! + 100]! ^ 0x40;
        await writeFile(path, data);
      },
      /checksum mismatch/,
    ],
    ['with bytes after the last block', async (path) => writeFile(path, Buffer.from('\x10\x00\x00\x00garbage-garbage-garbage'), { flag: 'a' }), /checksum mismatch/],
    ['that is not a snapshot', async (path) => writeFile(path, 'hello, world, this is not a snapshot'), /not a snapshot file/],
  ])('is refused when %s, naming the file and what is wrong', async (_, damage, problem) => {
    const { dir, path, blockStarts } = await snapshotted();
    expect(blockStarts).toHaveLength(3);
    await damage(path, blockStarts);
    const opening = DurableIndex.open(dir, config, options, silent);
    await expect(opening).rejects.toThrow(problem);
    await expect(opening).rejects.toThrow(path);
  });

  it('leaves that index answering 500 until repaired, and the others serving', async () => {
    const dataDir = temporaryDirectory('snapshot-catalog-', 'test');
    const first = await startLocalTarget({ dataDir });
    const create = (name: string) =>
      first.raw('', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, config: { dimensions: DIM, metric: 'cosine' } }) });
    for (const name of ['damaged', 'intact']) {
      expect((await create(name)).status).toBe(201);
      const body = Array.from({ length: 20 }, (_, i) => JSON.stringify({ id: `v${i}`, values: vectorFor(`v${i}`) })).join('\n');
      expect((await first.raw(`/${name}/upsert`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })).status).toBe(200);
    }
    await first.close(); // a snapshot of each
    const damaged = join(dataDir, 'indexes', 'damaged', 'snapshot-1.bin');
    await truncate(damaged, (await stat(damaged)).size - 10);

    const second = await startLocalTarget({ dataDir });
    try {
      const broken = await second.raw('/damaged/info');
      expect(broken.status).toBe(500);
      expect(await broken.json()).toMatchObject({ success: false, errors: [{ code: 10001, message: expect.stringMatching(/failed to load: .*torn frame/) }] });
      const intact = await second.raw('/intact/info');
      expect(((await intact.json()) as { result: { vectorCount: number } }).result.vectorCount).toBe(20);
    } finally {
      await second.close();
    }
    // Nothing was thrown away: the damaged snapshot is still there to repair.
    expect((await readdir(join(dataDir, 'indexes', 'damaged'))).filter((f) => f.startsWith('snapshot-'))).toEqual(['snapshot-1.bin']);
  });
});
