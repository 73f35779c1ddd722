// Snapshots: the full state of one index at a log boundary, so the log can be
// dropped. snapshot-<g>.bin holds everything applied before wal-<g>.log, and
// graph-<g>.usearch the HNSW graph at the same point (an optimisation:
// without it the graph is rebuilt from the rows). Both are written to
// temporary names, fsynced and renamed, so a crash leaves the old snapshot.
//
// snapshot-<g>.bin, version 2: written and read a block at a time, so neither
// side holds more than one block besides the index itself.
//   magic "VXSNAP\0\x02"
//   frame: JSON { version: 2, generation, dimensions, vectorCount, hasGraph, meta }
//   frames: blocks of up to BLOCK_BYTES of rows, in row order (snapshot-codec.ts)
// Every frame is [u32 length][u32 CRC32][payload] (frames.ts); the blocks'
// rows must add up to vectorCount and end the file.
//
// Version 1 (JSON records in the first frame, then the matrix in 64 MiB
// frames) is still read; the next snapshot replaces it with version 2.
import { open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { IndexMeta, IndexSnapshotSource } from '../engine/vector-index.ts';
import type { NewRecord } from '../engine/vector-store.ts';
import type { IndexedValue, Metadata, MetadataIndexSpec } from '../types.ts';
import { FrameFileReader, frame } from './frames.ts';
import { syncDir, syncFile } from './fsutil.ts';
import { decodeBlock, encodeBlock } from './snapshot-codec.ts';

const MAGIC_PREFIX = Buffer.from('VXSNAP\0', 'latin1');
export const SNAPSHOT_MAGIC = Buffer.concat([MAGIC_PREFIX, Buffer.from([2])]);
const MAGIC_V1 = Buffer.concat([MAGIC_PREFIX, Buffer.from([1])]);
/** Values per block: 8 MiB, whatever the dimensions. */
const BLOCK_BYTES = 8 * 1024 * 1024;
const rowsPerBlock = (dimensions: number) => Math.max(1, Math.floor(BLOCK_BYTES / (dimensions * 4)));

export const snapshotFile = (dir: string, generation: number) => join(dir, `snapshot-${generation}.bin`);
export const graphFile = (dir: string, generation: number) => join(dir, `graph-${generation}.usearch`);
/** Where the graph goes while its snapshot is being written. */
export const graphTmpFile = (dir: string, generation: number) => `${graphFile(dir, generation)}.tmp`;

export interface SnapshotHeader {
  version: 2;
  generation: number;
  dimensions: number;
  vectorCount: number;
  hasGraph: boolean;
  meta: IndexMeta;
}

/**
 * Writes snapshot `generation` from state captured at a log boundary, a
 * block at a time (writes to the index may go on meanwhile); `hasGraph` says
 * the graph was saved to graphTmpFile() at that moment. Returns the bytes written.
 */
export async function writeSnapshot(
  dir: string,
  generation: number,
  dimensions: number,
  source: IndexSnapshotSource,
  hasGraph: boolean,
  blockRows = rowsPerBlock(dimensions),
): Promise<number> {
  const count = source.records.length;
  const header: SnapshotHeader = { version: 2, generation, dimensions, vectorCount: count, hasGraph, meta: source.meta };
  const rows = new Float32Array(Math.min(count, blockRows) * dimensions);
  const tmp = `${snapshotFile(dir, generation)}.tmp`;
  const handle = await open(tmp, 'w');
  let bytes = 0;
  const write = async (buffers: Uint8Array[]) => {
    for (const b of buffers) {
      await writeAll(handle, b);
      bytes += b.byteLength;
    }
  };
  try {
    await write([SNAPSHOT_MAGIC]);
    await write(frame([Buffer.from(JSON.stringify(header), 'utf8')]));
    for (let start = 0; start < count; start += blockRows) {
      const end = Math.min(count, start + blockRows);
      const values = rows.subarray(0, (end - start) * dimensions);
      source.copyRows(start, end, values);
      await write(frame(encodeBlock(source.records.slice(start, end), values)));
    }
    await handle.datasync();
  } finally {
    await handle.close();
  }
  if (hasGraph) {
    await syncFile(graphTmpFile(dir, generation));
    await rename(graphTmpFile(dir, generation), graphFile(dir, generation));
  }
  await rename(tmp, snapshotFile(dir, generation));
  await syncDir(dir);
  return bytes;
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.byteLength; ) {
    const { bytesWritten } = await handle.write(bytes, at, bytes.byteLength - at);
    at += bytesWritten;
  }
}

/** Where a snapshot's contents go as they are read. */
export interface SnapshotSink {
  begin(header: SnapshotHeader): void;
  /** The next records in row order, with their rows (row-major). */
  rows(records: NewRecord[], values: Float32Array): void;
}

/** Reads and verifies a snapshot into `sink`; throws if any part is missing or corrupt. */
export async function readSnapshot(path: string, sink: SnapshotSink): Promise<SnapshotHeader> {
  const handle = await open(path, 'r');
  try {
    const magic = Buffer.alloc(SNAPSHOT_MAGIC.length);
    await handle.read(magic, 0, magic.length, 0);
    const frames = await FrameFileReader.open(handle, magic.length);
    if (magic.equals(SNAPSHOT_MAGIC)) return await readVersion2(frames, sink);
    if (magic.equals(MAGIC_V1)) return await readVersion1(frames, sink);
    throw new Error('not a snapshot file');
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`, { cause: error });
  } finally {
    await handle.close();
  }
}

async function readVersion2(frames: FrameFileReader, sink: SnapshotSink): Promise<SnapshotHeader> {
  const first = await frames.next();
  if (!first) throw new Error('empty snapshot');
  const header = JSON.parse(first.toString('utf8')) as SnapshotHeader;
  if (header.version !== 2) throw new Error(`header says version ${String(header.version)} in a version 2 file`);
  sink.begin(header);
  let rows = 0;
  for (let payload = await frames.next(); payload; payload = await frames.next()) {
    const block = decodeBlock(payload, header.dimensions);
    rows += block.records.length;
    if (rows > header.vectorCount) throw new Error(`more than the ${header.vectorCount} vectors the header declares`);
    sink.rows(block.records, block.values);
  }
  if (rows !== header.vectorCount) throw new Error(`${rows} vectors, the header declares ${header.vectorCount}`);
  return header;
}

/** Version 1: the records as JSON in the first frame, then the matrix in frames that need not end on a row. */
interface Version1Header {
  version: 1;
  generation: number;
  dimensions: number;
  vectorCount: number;
  hasGraph: boolean;
  state: {
    nextLabel: number;
    lastMutation: IndexMeta['lastMutation'];
    metadataIndexes: MetadataIndexSpec[];
    /** [id, label, namespace, metadata, indexed entries] in row order. */
    records: [string, number, string | null, Metadata | null, [string, IndexedValue][] | null][];
  };
}

async function readVersion1(frames: FrameFileReader, sink: SnapshotSink): Promise<SnapshotHeader> {
  const first = await frames.next();
  if (!first) throw new Error('empty snapshot');
  const old = JSON.parse(first.toString('utf8')) as Version1Header;
  const { nextLabel, lastMutation, metadataIndexes, records } = old.state;
  const header: SnapshotHeader = {
    version: 2,
    generation: old.generation,
    dimensions: old.dimensions,
    vectorCount: old.vectorCount,
    hasGraph: old.hasGraph,
    meta: { nextLabel, lastMutation, metadataIndexes },
  };
  if (old.version !== 1 || records.length !== old.vectorCount)
    throw new Error(`version 1 header with ${records.length} records for ${old.vectorCount} vectors`);
  sink.begin(header);
  const rowBytes = old.dimensions * 4;
  let pending: Buffer = Buffer.alloc(0);
  let row = 0;
  for (let chunk = await frames.next(); chunk; chunk = await frames.next()) {
    const bytes = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    const whole = Math.min(Math.floor(bytes.length / rowBytes), old.vectorCount - row);
    const values = new Float32Array(whole * old.dimensions);
    new Uint8Array(values.buffer).set(bytes.subarray(0, whole * rowBytes));
    sink.rows(
      records.slice(row, row + whole).map(([id, label, namespace, metadata, indexed]) => ({
        id,
        label,
        namespace: namespace ?? undefined,
        metadata: metadata ?? undefined,
        indexed: indexed ? new Map(indexed) : undefined,
      })),
      values,
    );
    row += whole;
    pending = bytes.subarray(whole * rowBytes);
  }
  if (row !== old.vectorCount || pending.length > 0)
    throw new Error(`matrix has ${row * rowBytes + pending.length} bytes, expected ${old.vectorCount} × ${old.dimensions} float32`);
  return header;
}
