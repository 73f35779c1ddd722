// The errors file: one JSON line per item that could not be indexed, with
// the reason. It is rewritten by each run, so it lists what is still
// missing; a rerun tries those items again.
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface ItemFailure {
  source: string;
  id?: string;
  code: string;
  reason: string;
}

export class ErrorsLog {
  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
  ) {}

  count = 0;
  // Writes in order, one at a time, whichever task reports a failure.
  private tail: Promise<unknown> = Promise.resolve();

  static async open(path: string): Promise<ErrorsLog> {
    mkdirSync(dirname(path), { recursive: true });
    return new ErrorsLog(await open(path, 'w'), path);
  }

  async record(failure: ItemFailure): Promise<void> {
    this.count++;
    const line = `${JSON.stringify({ ...failure, at: new Date().toISOString() })}\n`;
    const done = this.tail.then(() => this.handle.write(line));
    this.tail = done.catch(() => {});
    await done;
  }

  async close(): Promise<void> {
    await this.tail;
    await this.handle.sync();
    await this.handle.close();
  }
}
