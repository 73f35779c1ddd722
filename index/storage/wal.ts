// Write-ahead log: framed records appended to wal-<generation>.log. Appends
// are group-committed — every record queued while a write+fdatasync is in
// flight goes out in the next one — and a record's `onDurable` callback runs
// only after its bytes are on disk, in log order. A failed write is cut off
// again (ftruncate) so the log never keeps a half-written record mid-file.
import { copyFile, open, truncate, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { frame, FrameFileReader, FrameProblem } from './frames.ts';
import { syncDir } from './fsutil.ts';

export const WAL_MAGIC = Buffer.from('VXWAL\0\0\x01', 'latin1');

interface Append {
  kind: 'append';
  buffers: Buffer[];
  onDurable: () => void;
  resolve: () => void;
  reject: (error: unknown) => void;
}
interface Rotate {
  kind: 'rotate';
  path: string;
  atBarrier: () => void | Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class WalClosedError extends Error {
  constructor() {
    super('write-ahead log is closed');
  }
}

export class WalWriter {
  private queue: (Append | Rotate)[] = [];
  private running = false;
  private closed = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};

  private constructor(
    private handle: FileHandle,
    private currentPath: string,
    private size: number,
  ) {}

  /** Opens (creating if needed) a log for appending after its valid prefix. */
  static async open(path: string): Promise<WalWriter> {
    const { handle, size } = await openLog(path);
    return new WalWriter(handle, path, size);
  }

  /** Bytes of records in the current file. */
  get bytes(): number {
    return this.size - WAL_MAGIC.length;
  }

  append(payload: readonly Uint8Array[], onDurable: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new WalClosedError());
      this.queue.push({ kind: 'append', buffers: frame(payload), onDurable, resolve, reject });
      this.kick();
    });
  }

  /**
   * After everything queued so far is durable, continue in a new file;
   * `atBarrier` runs at the switch, when the old file holds every record
   * handed to `onDurable` so far. No record is written until it has
   * finished, so an async `atBarrier` may wait for those records to be
   * applied.
   */
  rotate(path: string, atBarrier: () => void | Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new WalClosedError());
      this.queue.push({ kind: 'rotate', path, atBarrier, resolve, reject });
      this.kick();
    });
  }

  /** Waits for queued records, then closes; later appends are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.idle;
    await this.handle.close();
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    this.idle = new Promise((resolve) => (this.markIdle = resolve));
    void this.drain();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.kind === 'rotate') {
        this.queue.shift();
        await this.switchTo(head);
        continue;
      }
      const batch: Append[] = [];
      while (this.queue[0]?.kind === 'append') batch.push(this.queue.shift() as Append);
      await this.commit(batch);
    }
    this.running = false;
    this.markIdle();
  }

  private async commit(batch: Append[]): Promise<void> {
    const buffers = batch.flatMap((a) => a.buffers);
    const total = buffers.reduce((n, b) => n + b.length, 0);
    try {
      const { bytesWritten } = await this.handle.writev(buffers);
      if (bytesWritten !== total) throw new Error(`short write to ${this.currentPath}: ${bytesWritten} of ${total} bytes`);
      await this.handle.datasync();
    } catch (error) {
      await this.handle.truncate(this.size).catch(() => {});
      for (const a of batch) a.reject(error);
      return;
    }
    this.size += total;
    for (const a of batch) {
      try {
        a.onDurable();
        a.resolve();
      } catch (error) {
        a.reject(error);
      }
    }
  }

  private async switchTo(r: Rotate): Promise<void> {
    try {
      const next = await openLog(r.path);
      try {
        await r.atBarrier();
      } catch (error) {
        await next.handle.close();
        throw error;
      }
      const previous = this.handle;
      this.handle = next.handle;
      this.currentPath = r.path;
      this.size = next.size;
      await previous.close();
      r.resolve();
    } catch (error) {
      r.reject(error);
    }
  }
}

async function openLog(path: string): Promise<{ handle: FileHandle; size: number }> {
  const handle = await open(path, 'a');
  let size = (await handle.stat()).size;
  if (size === 0) {
    await handle.write(WAL_MAGIC);
    await handle.datasync();
    await syncDir(dirname(path));
    size = WAL_MAGIC.length;
  }
  return { handle, size };
}

export interface WalReadResult {
  /** Records read (and handed to `onRecord`). */
  records: number;
  /** Set when a torn or corrupt tail was found and cut off. */
  problem?: string;
}

/**
 * Reads a log's records in order, one at a time (a log of any size is read
 * in memory of one record). A torn or corrupt tail (a crash mid-append) is
 * copied aside to `<file>.corrupt-<time>`, cut off, and reported with a
 * warning; every record before it is read.
 */
export async function readWal(path: string, logger: Logger, onRecord: (payload: Buffer) => void): Promise<WalReadResult> {
  const { records, size, damage } = await readRecords(path, onRecord);
  if (damage === undefined) return { records };
  if (damage === 'unborn') {
    // Cut short while the file was created: nothing was ever acknowledged from it.
    await truncate(path, 0);
    return { records };
  }
  const aside = `${path}.corrupt-${Date.now()}`;
  await copyFile(path, aside);
  await truncate(path, damage.validEnd);
  if (damage.validEnd === 0) {
    const problem = `${basename(path)} has no log header; moved its ${size} bytes to ${basename(aside)}`;
    logger.warn({ wal: path, aside }, problem);
    return { records, problem };
  }
  const skipped = size - damage.validEnd;
  const problem = `${basename(path)}: ${damage.reason}; skipped ${skipped} trailing bytes (kept in ${basename(aside)})`;
  logger.warn({ wal: path, aside, validBytes: damage.validEnd, skippedBytes: skipped }, problem);
  return { records, problem };
}

/** Hands each record to `onRecord`; says where and why the valid records end, when they end before the file does. */
async function readRecords(
  path: string,
  onRecord: (payload: Buffer) => void,
): Promise<{ records: number; size: number; damage?: 'unborn' | { validEnd: number; reason: string } }> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const head = Buffer.alloc(Math.min(size, WAL_MAGIC.length));
    await handle.read(head, 0, head.length, 0);
    if (!head.equals(WAL_MAGIC)) {
      const unborn = size < WAL_MAGIC.length && head.equals(WAL_MAGIC.subarray(0, size));
      return { records: 0, size, damage: unborn ? 'unborn' : { validEnd: 0, reason: 'no log header' } };
    }
    const frames = await FrameFileReader.open(handle, WAL_MAGIC.length);
    let records = 0;
    try {
      for (let payload = await frames.next(); payload; payload = await frames.next()) {
        onRecord(payload);
        records++;
      }
    } catch (error) {
      if (!(error instanceof FrameProblem)) throw error;
      return { records, size, damage: { validEnd: error.offset, reason: error.message } };
    }
    return { records, size };
  } finally {
    await handle.close();
  }
}
