// The checkpoint: an append-only text file of what the target acknowledged.
//
//   # crossmodal-backfill checkpoint v1 {"source":…,"target":…,"idFrom":…}
//   <16 hex: fingerprint of the item's key> <id as a JSON string>
//   …
//
// A batch's lines are appended and fsynced after the target acknowledged the
// batch and before anything else is counted as done, so after Ctrl-C, a crash
// or kill -9 the file lists only acknowledged items. A write acknowledged in
// the instant before a crash and not yet recorded is simply done again on
// the next run: upserts by a stable id are idempotent. A line torn by a crash
// is cut off when the file is opened again.
import { mkdirSync } from 'node:fs';
import { open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FatalError } from './failures.ts';
import { FingerprintSet, fingerprint } from './fingerprint-set.ts';

const MAGIC = '# crossmodal-backfill checkpoint v1 ';
const ENTRY = /^([0-9a-f]{16}) (.+)$/;

/** What the checkpoint belongs to: resuming with other settings would skip the wrong items. */
export type CheckpointScope = Record<string, string>;

export interface CheckpointEntry {
  key: string;
  id: string;
}

export interface LoadedCheckpoint {
  /** Fingerprints of the keys of every acknowledged item. */
  keys: FingerprintSet;
  /** Fingerprints of their ids. */
  ids: FingerprintSet;
  entries: number;
}

/** Reads a checkpoint (none yet: empty), cutting off a torn last line. Throws when it belongs to another scope. */
export async function loadCheckpoint(path: string, scope: CheckpointScope, repair = true): Promise<LoadedCheckpoint> {
  const keys = new FingerprintSet();
  const ids = new FingerprintSet();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { keys, ids, entries: 0 };
    throw new FatalError(`cannot read the checkpoint ${path}: ${(error as Error).message}`);
  }
  const complete = text.lastIndexOf('\n') + 1;
  if (complete < text.length && repair) await truncate(path, Buffer.byteLength(text.slice(0, complete), 'utf8'));
  const lines = text.slice(0, complete).split('\n');
  lines.pop();
  if (lines.length === 0) return { keys, ids, entries: 0 };
  checkScope(path, lines[0]!, scope);
  let entries = 0;
  for (let i = 1; i < lines.length; i++) {
    const match = ENTRY.exec(lines[i]!);
    const id = match ? parseId(match[2]!) : undefined;
    if (id === undefined) throw new FatalError(`checkpoint ${path} line ${i + 1} is damaged: ${JSON.stringify(lines[i]!.slice(0, 80))}`);
    keys.add(match![1]!);
    ids.add(fingerprint(id));
    entries++;
  }
  return { keys, ids, entries };
}

function parseId(text: string): string | undefined {
  try {
    const id: unknown = JSON.parse(text);
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

function checkScope(path: string, header: string, scope: CheckpointScope): void {
  if (!header.startsWith(MAGIC)) throw new FatalError(`${path} is not a backfill checkpoint`);
  let recorded: CheckpointScope;
  try {
    recorded = JSON.parse(header.slice(MAGIC.length)) as CheckpointScope;
  } catch {
    throw new FatalError(`${path}: damaged checkpoint header`);
  }
  const differences = Object.keys(scope).filter((k) => recorded[k] !== scope[k]);
  if (differences.length)
    throw new FatalError(
      `checkpoint ${path} belongs to another backfill (${differences.map((k) => `${k}: ${recorded[k]} there, ${scope[k]} now`).join('; ')}); ` +
        'use another --checkpoint, or delete it to start over',
    );
}

/** Appends acknowledged items, each batch made durable before it counts. */
export class CheckpointWriter {
  // Appends in order, one at a time, from whichever task settles items.
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
  ) {}

  static async open(path: string, scope: CheckpointScope, entriesSoFar: number): Promise<CheckpointWriter> {
    mkdirSync(dirname(path), { recursive: true });
    const handle = await open(path, 'a');
    const writer = new CheckpointWriter(handle, path);
    if (entriesSoFar === 0 && (await handle.stat()).size === 0) {
      await handle.write(`${MAGIC}${JSON.stringify(scope)}\n`);
      await handle.datasync();
    }
    return writer;
  }

  async append(entries: readonly CheckpointEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const text = entries.map((e) => `${e.key} ${JSON.stringify(e.id)}\n`).join('');
    const done = this.tail.then(async () => {
      await this.handle.write(text);
      await this.handle.datasync();
    });
    this.tail = done.catch(() => {});
    await done;
  }

  async close(): Promise<void> {
    await this.tail;
    await this.handle.close();
  }
}
