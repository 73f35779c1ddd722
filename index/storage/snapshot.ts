// Snapshots: the full state of one index at a log boundary, so the log can be
// dropped. snapshot-<g>.bin holds everything applied before wal-<g>.log:
//   magic, frame(JSON state), frames(float32 matrix in chunks)
// and graph-<g>.usearch the HNSW graph at the same point (an optimisation:
// without it the graph is rebuilt from the matrix). Both are written to
// temporary names, fsynced and renamed, so a crash leaves the old snapshot.
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { concatBytes } from '../../common/bytes.ts';
import type { IndexState } from '../engine/vector-index.ts';
import { frame, scanFrames } from './frames.ts';
import { syncDir, syncFile } from './fsutil.ts';

export const SNAPSHOT_MAGIC = Buffer.from('VXSNAP\0\x01', 'latin1');
const CHUNK_BYTES = 64 * 1024 * 1024;

export const snapshotFile = (dir: string, generation: number) => join(dir, `snapshot-${generation}.bin`);
export const graphFile = (dir: string, generation: number) => join(dir, `graph-${generation}.usearch`);

interface SnapshotHeader {
  version: 1;
  generation: number;
  dimensions: number;
  vectorCount: number;
  hasGraph: boolean;
  state: IndexState;
}

export interface Snapshot {
  header: SnapshotHeader;
  matrix: Float32Array;
}

/** Where the graph goes while its snapshot is being written. */
export const graphTmpFile = (dir: string, generation: number) => `${graphFile(dir, generation)}.tmp`;

/**
 * Writes snapshot `generation` from state captured at a log boundary;
 * `hasGraph` says the graph was saved to graphTmpFile() at that moment.
 */
export async function writeSnapshot(
  dir: string,
  generation: number,
  dimensions: number,
  state: IndexState,
  matrix: Float32Array,
  hasGraph: boolean,
): Promise<void> {
  const graphTmp = graphTmpFile(dir, generation);
  const header: SnapshotHeader = {
    version: 1,
    generation,
    dimensions,
    vectorCount: state.records.length,
    hasGraph,
    state,
  };
  const tmp = `${snapshotFile(dir, generation)}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.write(SNAPSHOT_MAGIC);
    await handle.writev(frame([Buffer.from(JSON.stringify(header), 'utf8')]));
    const bytes = new Uint8Array(matrix.buffer, matrix.byteOffset, matrix.byteLength);
    for (let at = 0; at < bytes.length; at += CHUNK_BYTES)
      await handle.writev(frame([bytes.subarray(at, Math.min(bytes.length, at + CHUNK_BYTES))]));
    await handle.datasync();
  } finally {
    await handle.close();
  }
  if (hasGraph) {
    await syncFile(graphTmp);
    await rename(graphTmp, graphFile(dir, generation));
  }
  await rename(tmp, snapshotFile(dir, generation));
  await syncDir(dir);
}

/** Reads and verifies a snapshot; throws if any part is missing or corrupt. */
export async function readSnapshot(path: string): Promise<Snapshot> {
  const data = await readFile(path);
  if (!data.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) throw new Error(`${path}: not a snapshot file`);
  const scan = scanFrames(data, SNAPSHOT_MAGIC.length);
  if (scan.problem !== undefined) throw new Error(`${path}: ${scan.problem}`);
  const [first, ...chunks] = scan.payloads;
  if (!first) throw new Error(`${path}: empty snapshot`);
  const header = JSON.parse(first.toString('utf8')) as SnapshotHeader;
  const total = chunks.reduce((n, c) => n + c.length, 0);
  if (header.version !== 1 || total !== header.vectorCount * header.dimensions * 4)
    throw new Error(`${path}: matrix has ${total} bytes, expected ${header.vectorCount} × ${header.dimensions} float32`);
  return { header, matrix: new Float32Array(concatBytes(chunks).buffer) };
}
