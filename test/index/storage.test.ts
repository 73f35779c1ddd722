// Write-ahead log framing, torn/corrupt tails, group commit, and recovery of
// a durable index from snapshot + log.
import { appendFile, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_TUNING } from '../../index/engine/vector-index.ts';
import { decodeMutation, encodeMutation } from '../../index/storage/codec.ts';
import { DurableIndex, type DurabilityOptions } from '../../index/storage/durable-index.ts';
import { readWal, WAL_MAGIC, WalWriter } from '../../index/storage/wal.ts';
import type { IndexConfig, Mutation } from '../../index/types.ts';

/** A log's records, read into memory. */
async function readAll(path: string, logger: pino.Logger) {
  const payloads: Buffer[] = [];
  const result = await readWal(path, logger, (payload) => payloads.push(payload));
  expect(result.records).toBe(payloads.length);
  return { ...result, payloads };
}

/** A logger whose warnings the test can read. */
function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, warnings: () => lines.filter((l) => l.level === 40).map((l) => l.msg) };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'index-storage-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const record = (i: number) => [Buffer.from(`record-${i}-${'x'.repeat(i * 10)}`)];

async function writeRecords(path: string, count: number): Promise<void> {
  const wal = await WalWriter.open(path);
  await Promise.all(Array.from({ length: count }, (_, i) => wal.append(record(i), () => {})));
  await wal.close();
}

describe('write-ahead log', () => {
  it('round-trips records in order, group-committing concurrent appends', async () => {
    const path = join(dir, 'wal-0.log');
    const wal = await WalWriter.open(path);
    const applied: number[] = [];
    await Promise.all(Array.from({ length: 50 }, (_, i) => wal.append(record(i), () => applied.push(i))));
    await wal.close();
    expect(applied).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const { payloads, problem } = await readAll(path, pino({ level: 'silent' }));
    expect(problem).toBeUndefined();
    expect(payloads.map(String)).toEqual(Array.from({ length: 50 }, (_, i) => String(record(i)[0])));
  });

  it('refuses appends after close', async () => {
    const wal = await WalWriter.open(join(dir, 'wal-0.log'));
    await wal.close();
    await expect(wal.append(record(1), () => {})).rejects.toThrow('closed');
  });

  it.each([
    ['a torn last record', async (path: string) => truncate(path, (await stat(path)).size - 7)],
    ['a torn record header', async (path: string) => appendFile(path, Buffer.from([9, 0, 0]))],
    [
      'a corrupt last record',
      async (path: string) => {
        const data = await readFile(path);
        data[data.length - 3] = data[data.length - 3]! ^ 0xff;
        await writeFile(path, data);
      },
    ],
    ['garbage after the last record', async (path: string) => appendFile(path, Buffer.from('\x10\x00\x00\x00garbage-garbage-garbage'))],
  ])('skips %s with a warning and keeps appending after it', async (_, damage) => {
    const path = join(dir, 'wal-0.log');
    await writeRecords(path, 3);
    await damage(path);
    const { logger, warnings } = capturingLogger();
    const first = await readAll(path, logger);
    const survivors = first.payloads.length;
    expect(survivors).toBeGreaterThanOrEqual(2);
    expect(first.payloads.map(String)).toEqual([0, 1, 2].slice(0, survivors).map((i) => String(record(i)[0])));
    expect(first.problem).toBeDefined();
    expect(warnings()).toHaveLength(1);
    expect((await readdir(dir)).some((f) => f.startsWith('wal-0.log.corrupt-'))).toBe(true);

    const wal = await WalWriter.open(path);
    await wal.append(record(9), () => {});
    await wal.close();
    const second = await readAll(path, logger);
    expect(second.problem).toBeUndefined();
    expect(second.payloads.map(String).at(-1)).toBe(String(record(9)[0]));
    expect(second.payloads).toHaveLength(survivors + 1);
  });

  it('moves a log without its header aside with a warning, and starts it afresh', async () => {
    const path = join(dir, 'wal-0.log');
    await writeFile(path, 'not a log at all, whatever it is');
    const { logger, warnings } = capturingLogger();
    const read = await readAll(path, logger);
    expect(read.payloads).toEqual([]);
    expect(read.problem).toContain('has no log header');
    expect(warnings()).toHaveLength(1);
    expect((await readdir(dir)).some((f) => f.startsWith('wal-0.log.corrupt-'))).toBe(true);
    await writeRecords(path, 2);
    expect((await readAll(path, logger)).payloads.map(String)).toEqual([0, 1].map((i) => String(record(i)[0])));
  });

  it('treats a log torn inside its header as empty', async () => {
    const path = join(dir, 'wal-0.log');
    await writeFile(path, WAL_MAGIC.subarray(0, 3));
    expect((await readAll(path, pino({ level: 'silent' }))).payloads).toEqual([]);
  });

  it('encodes mutations losslessly', () => {
    const values = Float32Array.from([0.1, -2, 3.5, 1e-8, 7, 8]);
    const m: Mutation = {
      kind: 'upsert',
      mutationId: 'id-1',
      timestamp: 123,
      vectors: [{ id: 'a', namespace: 'n', metadata: { x: [1, 'é'] } }, { id: 'b' }],
      values,
    };
    const decoded = decodeMutation(Buffer.concat(encodeMutation(m)));
    expect(decoded).toEqual(m);
    const del: Mutation = { kind: 'delete', mutationId: 'id-2', timestamp: 1, ids: ['a'] };
    expect(decodeMutation(Buffer.concat(encodeMutation(del)))).toEqual(del);
  });
});

describe('durable index recovery', () => {
  const config: IndexConfig = { name: 'durable', dimensions: 4, metric: 'cosine', createdOn: 'now', modifiedOn: 'now' };
  const options = (snapshotWalBytes = 1 << 30): DurabilityOptions => ({ snapshotWalBytes, tuning: DEFAULT_TUNING });
  let n = 0;
  const upsert = (ids: string[]): Mutation => ({
    kind: 'upsert',
    mutationId: `u${++n}`,
    timestamp: Date.now(),
    vectors: ids.map((id) => ({ id, metadata: { id } })),
    values: Float32Array.from(ids.flatMap((_, i) => [i + 1, n, 0.5, -1])),
  });
  const silent = pino({ level: 'silent' });
  const state = (d: DurableIndex) => ({
    info: d.index.info(),
    vectors: d.index.getByIds(d.index.listIds(1000, undefined).vectors.map((v) => v.id)),
  });

  it('replays the log after an unclean stop', async () => {
    const first = await DurableIndex.open(dir, config, options(), silent);
    await first.commit(upsert(['a', 'b']));
    await first.commit({ kind: 'createMetadataIndex', mutationId: 'mi', timestamp: 1, propertyName: 'id', indexType: 'string' });
    await first.commit(upsert(['c']));
    await first.commit({ kind: 'delete', mutationId: 'del', timestamp: 2, ids: ['a'] });
    const before = state(first);
    // No close(): as if the process died here.
    const second = await DurableIndex.open(dir, config, options(), silent);
    expect(state(second)).toEqual(before);
    expect(second.recovery).toMatchObject({ snapshotGeneration: null, replayedMutations: 4, walProblems: [] });
    expect(second.index.metadataIndexes()).toEqual([{ propertyName: 'id', indexType: 'string' }]);
    await first.close({ snapshot: false });
    await second.close({ snapshot: false });
  });

  it('snapshots when the log grows, drops covered logs, and restores the saved graph', async () => {
    const durable = await DurableIndex.open(dir, config, options(2000), silent);
    for (let i = 0; i < 30; i++) await durable.commit(upsert([`v${i}`, `w${i}`]));
    await durable.snapshot();
    await durable.commit(upsert(['after-snapshot']));
    const before = state(durable);
    const files = await readdir(dir);
    expect(files.filter((f) => f.startsWith('snapshot-'))).toHaveLength(1);
    expect(files.filter((f) => f.startsWith('graph-'))).toHaveLength(1);
    expect(files.filter((f) => f.startsWith('wal-'))).toHaveLength(1);

    const reopened = await DurableIndex.open(dir, config, options(2000), silent);
    expect(state(reopened)).toEqual(before);
    expect(reopened.recovery.snapshotGeneration).toBeGreaterThan(0);
    expect(reopened.recovery.replayedMutations).toBe(1);
    expect(reopened.recovery.graphRebuilt).toBe(false);
    const vector = reopened.index.valuesOf('after-snapshot')!;
    const [top] = reopened.index.query({ vector, topK: 1, returnValues: false, returnMetadata: 'none' });
    expect(top?.id).toBe('after-snapshot');
    await durable.close({ snapshot: false });
    await reopened.close({ snapshot: false });
  });

  it('a snapshot asked for while another runs also covers the writes made since that one began', async () => {
    const durable = await DurableIndex.open(dir, config, options(), silent);
    await durable.commit(upsert(['a']));
    const running = durable.snapshot();
    await durable.commit(upsert(['b'])); // lands after the running snapshot's cut
    await durable.snapshot();
    await running;
    const reopened = await DurableIndex.open(dir, config, options(), silent);
    expect(reopened.recovery.replayedMutations).toBe(0);
    expect(state(reopened)).toEqual(state(durable));
    await durable.close({ snapshot: false });
    await reopened.close({ snapshot: false });
  });

  it('recovers from a torn last log record with a warning, then keeps writing', async () => {
    const durable = await DurableIndex.open(dir, config, options(), silent);
    await durable.commit(upsert(['a']));
    await durable.commit(upsert(['b']));
    const before = state(durable);
    await durable.close({ snapshot: false });
    // A crash in the middle of the third append: half a record on disk.
    const third = Buffer.concat(encodeMutation(upsert(['c'])));
    const header = Buffer.alloc(8);
    header.writeUInt32LE(third.length, 0);
    await appendFile(join(dir, 'wal-0.log'), Buffer.concat([header, third.subarray(0, third.length >> 1)]));

    const { logger, warnings } = capturingLogger();
    const reopened = await DurableIndex.open(dir, config, options(), logger);
    expect(state(reopened)).toEqual(before);
    expect(warnings()).toEqual([expect.stringContaining('torn frame')]);
    expect(reopened.recovery.walProblems).toHaveLength(1);

    await reopened.commit(upsert(['d']));
    const after = state(reopened);
    await reopened.close({ snapshot: false });
    const again = await DurableIndex.open(dir, config, options(), logger);
    expect(state(again)).toEqual(after);
    expect(again.index.has('d')).toBe(true);
    expect(again.index.has('c')).toBe(false);
    await again.close({ snapshot: false });
  });

  it('leaves a snapshot on a clean close so the next start replays nothing', async () => {
    const durable = await DurableIndex.open(dir, config, options(), silent);
    await durable.commit(upsert(['a', 'b', 'c']));
    const before = state(durable);
    await durable.close({ snapshot: true });
    const reopened = await DurableIndex.open(dir, config, options(), silent);
    expect(state(reopened)).toEqual(before);
    expect(reopened.recovery.replayedMutations).toBe(0);
    await reopened.close({ snapshot: false });
  });
});
