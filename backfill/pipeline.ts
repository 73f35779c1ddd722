// The backfill pipeline:
//
//   source entries ─► prepare (read, sniff, probe, id, metadata; many at once)
//     ─► embedder batches (--batch-size items, --concurrency requests in flight;
//        none for a descriptor target, whose URLs are neither read nor embedded here)
//     ─► target writes (as many records as the target takes per request, one
//        write at a time, grouping whatever piled up while the last one ran)
//     ─► checkpoint (appended and fsynced once the target acknowledged)
//
// Each stage waits for the next when that one is full, so memory stays bounded
// whatever the size of the source. A request refused because of what it
// carried is split in halves until the bad item is alone; that item goes to
// the errors file and the others land.
import type { LoadedCheckpoint, CheckpointWriter } from './checkpoint.ts';
import { Semaphore, Signal, until } from './concurrency.ts';
import type { EmbedderPool } from './embedding/embedder-pool.ts';
import type { ErrorsLog } from './errors-log.ts';
import { ItemError, RejectedError } from './failures.ts';
import { fingerprint } from './fingerprint-set.ts';
import type { IdFrom } from './ids.ts';
import { inputBytes, type PreparedItem } from './items.ts';
import type { Log } from './log.ts';
import { prepare } from './prepare.ts';
import { retrying, sleep } from './retry.ts';
import type { SourceEntry } from './sources/entry.ts';
import type { Target } from './targets/target.ts';

/** Bytes of images in one embedder request: under the embedder's 32 MiB body limit (EMBEDDER_MAX_BODY_BYTES). */
const MAX_REQUEST_BYTES = 24 * 1024 * 1024;

export interface Counters {
  /** Entries taken from the source. */
  seen: number;
  indexed: number;
  /** Acknowledged in an earlier run, or the same content as an item indexed. */
  skipped: number;
  failed: number;
  /** Files in a directory that are no image. */
  ignored: number;
}

export type StopReason = 'interrupted' | 'max-errors' | 'fatal';
const STOP_RANK: Record<StopReason, number> = { interrupted: 0, 'max-errors': 1, fatal: 2 };

export interface PipelineOptions {
  target: Target;
  /** Absent for a descriptor target: nothing is embedded here. */
  embedder: EmbedderPool | undefined;
  done: LoadedCheckpoint;
  checkpoint: CheckpointWriter;
  errors: ErrorsLog;
  idFrom: IdFrom;
  /** The embedder's model id, stored with each vector as metadata.model. */
  model?: string | undefined;
  /** A WebP thumbnail of each image goes with it (--thumbnails). */
  thumbnails: boolean;
  concurrency: number;
  batchSize: number;
  maxErrors: number | undefined;
  log: Log;
}

type InputKind = PreparedItem['input']['kind'];

interface Embedded {
  item: PreparedItem;
  values: Float32Array | undefined;
}

interface Encoded {
  item: PreparedItem;
  line: string;
}

export class Pipeline {
  readonly counters: Counters = { seen: 0, indexed: 0, skipped: 0, failed: 0, ignored: 0 };
  private readonly stopSignal = new Signal();
  private stopReason: StopReason | undefined;
  private fatalError: Error | undefined;
  private readonly tasks = new Set<Promise<void>>();
  private readonly prepareSlots: Semaphore;
  private readonly embedSlots: Semaphore;
  private readonly open: Record<InputKind, PreparedItem[]> = { image: [], text: [], url: [] };
  private readonly openBytes: Record<InputKind, number> = { image: 0, text: 0, url: 0 };
  /** Items on their way, by id: a second entry with the same id rides along with the first. */
  private readonly pending = new Map<string, PreparedItem>();
  private readonly writer: Writer;

  constructor(private readonly options: PipelineOptions) {
    this.prepareSlots = new Semaphore(Math.max(8, 2 * options.concurrency));
    this.embedSlots = new Semaphore(options.concurrency);
    this.writer = new Writer(options.target, this, options.log);
  }

  get stopped(): StopReason | undefined {
    return this.stopReason;
  }

  get fatal(): Error | undefined {
    return this.fatalError;
  }

  /** No new work starts; what is in flight finishes and is recorded. */
  stop(reason: StopReason, error?: Error): void {
    if (reason === 'fatal') this.fatalError ??= error;
    // The gravest reason is the one reported.
    if (!this.stopReason || STOP_RANK[reason] > STOP_RANK[this.stopReason]) this.stopReason = reason;
    this.stopSignal.fire();
  }

  async run(source: AsyncIterable<SourceEntry>): Promise<void> {
    try {
      for await (const entry of until(source, this.stopSignal)) {
        this.counters.seen++;
        await this.prepareSlots.acquire();
        this.track(this.prepareOne(entry).finally(() => this.prepareSlots.release()));
        if (this.stopSignal.fired) break;
      }
    } catch (error) {
      // The source failed (stdin closed with an error, a file vanished): what is in flight still lands.
      this.stop('fatal', error as Error);
    }
    await this.settle();
    // Whatever did not fill a batch goes now, unless the run was stopped.
    if (!this.stopSignal.fired) {
      await this.dispatch('image');
      await this.dispatch('text');
      await this.dispatch('url');
    }
    await this.settle();
    await this.writer.drain();
  }

  private track(task: Promise<void>): void {
    const tracked = task.catch((error: unknown) => this.stop('fatal', error as Error));
    this.tasks.add(tracked);
    void tracked.finally(() => this.tasks.delete(tracked));
  }

  private async settle(): Promise<void> {
    while (this.tasks.size) await Promise.all([...this.tasks]);
  }

  private async prepareOne(entry: SourceEntry): Promise<void> {
    const prepared = await prepare(entry, {
      idFrom: this.options.idFrom,
      model: this.options.model,
      describeOnly: this.options.target.input === 'descriptors',
      thumbnails: this.options.thumbnails,
      isDone: (key) => this.options.done.keys.has(key),
    });
    switch (prepared.outcome) {
      case 'skipped':
        this.counters.skipped++;
        return;
      case 'ignored':
        this.counters.ignored++;
        return;
      case 'failed':
        await this.fail({ source: prepared.source, ...(prepared.id !== undefined ? { id: prepared.id } : {}), error: prepared.error });
        return;
      case 'item':
        await this.enqueue(prepared.item);
    }
  }

  private async enqueue(item: PreparedItem): Promise<void> {
    if (this.stopSignal.fired) return; // read but not sent: done again on the next run
    // A content id already acknowledged means these very bytes are indexed: record the key, skip the work.
    if (item.contentId && this.options.done.ids.has(fingerprint(item.id))) {
      await this.options.checkpoint.append([{ key: item.key, id: item.id }]);
      this.counters.skipped++;
      return;
    }
    const first = this.pending.get(item.id);
    if (first) {
      first.duplicates.push({ key: item.key, source: item.source });
      return;
    }
    this.pending.set(item.id, item);
    const kind = item.input.kind;
    this.open[kind].push(item);
    this.openBytes[kind] += inputBytes(item);
    if (this.open[kind].length >= this.options.batchSize || this.openBytes[kind] >= MAX_REQUEST_BYTES) await this.dispatch(kind);
  }

  /** Sends the open batch of `kind` to the embedder once a request slot is free. */
  private async dispatch(kind: InputKind): Promise<void> {
    const batch = this.open[kind];
    if (batch.length === 0) return;
    this.open[kind] = [];
    this.openBytes[kind] = 0;
    await this.embedSlots.acquire();
    this.track(
      (async () => {
        try {
          const embedded = await this.embed(batch);
          // Holding the slot until the writer has room is what slows the embedder down for a slow target.
          await this.writer.add(embedded);
        } finally {
          this.embedSlots.release();
        }
      })(),
    );
  }

  /** Embeddings for `items`, splitting a refused request until the bad items are alone. */
  private async embed(items: PreparedItem[]): Promise<Embedded[]> {
    const embedder = this.options.embedder;
    if (!embedder) return items.map((item) => ({ item, values: undefined }));
    try {
      const first = items[0]!.input;
      if (first.kind === 'url') throw new Error(`${items[0]!.source} reached the embedder unread`);
      const rows =
        first.kind === 'image'
          ? await embedder.embedImages(items.map((i) => (i.input as { bytes: Uint8Array }).bytes))
          : await embedder.embedTexts(items.map((i) => (i.input as { text: string }).text));
      return items.map((item, i) => ({ item, values: rows[i] }));
    } catch (error) {
      if (!(error instanceof RejectedError)) throw error;
      if (items.length === 1) {
        await this.fail({ item: items[0]!, error: new ItemError(error.code || `http_${error.status}`, error.message) });
        return [];
      }
      const half = Math.ceil(items.length / 2);
      const [a, b] = await Promise.all([this.embed(items.slice(0, half)), this.embed(items.slice(half))]);
      return [...a, ...b];
    }
  }

  /** The target has these: into the checkpoint (durably), then counted. */
  async acknowledged(items: readonly PreparedItem[]): Promise<void> {
    const entries = items.flatMap((item) => [{ key: item.key, id: item.id }, ...item.duplicates.map((d) => ({ key: d.key, id: item.id }))]);
    await this.options.checkpoint.append(entries);
    for (const item of items) {
      this.pending.delete(item.id);
      if (item.contentId) this.options.done.ids.add(fingerprint(item.id));
      this.counters.indexed++;
      this.counters.skipped += item.duplicates.length;
    }
  }

  /** An item that cannot be indexed (with the entries that share its id): into the errors file. */
  async fail(failure: { item: PreparedItem; error: ItemError } | { source: string; id?: string; error: ItemError }): Promise<void> {
    const { error } = failure;
    const sources = 'item' in failure ? [failure.item.source, ...failure.item.duplicates.map((d) => d.source)] : [failure.source];
    const id = 'item' in failure ? failure.item.id : failure.id;
    if ('item' in failure) this.pending.delete(failure.item.id);
    for (const source of sources) {
      this.counters.failed++;
      await this.options.errors.record({ source, ...(id !== undefined ? { id } : {}), code: error.code, reason: error.message });
    }
    const max = this.options.maxErrors;
    if (max !== undefined && this.counters.failed > max) this.stop('max-errors');
  }
}

/**
 * Writes to the target one request at a time. Each write takes everything that piled up while the
 * last one ran, up to the target's limits: small writes while the target keeps up, full ones when
 * it is the slower side.
 */
class Writer {
  private buffer: Encoded[] = [];
  private running: Promise<void> | undefined;
  private lastWrite = 0;
  private readonly roomWaiters: (() => void)[] = [];

  constructor(
    private readonly target: Target,
    private readonly pipeline: Pipeline,
    private readonly log: Log,
  ) {}

  async add(embedded: readonly Embedded[]): Promise<void> {
    for (const { item, values } of embedded) {
      const record = {
        id: item.id,
        metadata: item.metadata,
        source: item.source,
        ...(values ? { values } : {}),
        ...(item.input.kind === 'url' ? { url: item.input.url } : {}),
        ...(item.thumbnail ? { thumbnail: item.thumbnail } : {}),
      };
      this.buffer.push({ item, line: this.target.encode(record) });
    }
    this.kick();
    // Room for one more full write while one is in flight.
    while (this.buffer.length >= this.target.limits.maxRecords && !this.pipeline.fatal) await new Promise<void>((r) => this.roomWaiters.push(r));
  }

  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private kick(): void {
    if (this.running || this.buffer.length === 0 || this.pipeline.fatal) return;
    this.running = this.loop()
      .catch((error: unknown) => this.pipeline.stop('fatal', error as Error))
      .finally(() => {
        this.running = undefined;
        this.wake();
        this.kick();
      });
  }

  private wake(): void {
    for (const waiter of this.roomWaiters.splice(0)) waiter();
  }

  private async loop(): Promise<void> {
    while (this.buffer.length && !this.pipeline.fatal) {
      const { maxRecords, maxBytes, minIntervalMs } = this.target.limits;
      let bytes = 0;
      let count = 0;
      while (count < this.buffer.length && count < maxRecords) {
        const size = Buffer.byteLength(this.buffer[count]!.line, 'utf8') + 1;
        if (count > 0 && bytes + size > maxBytes) break;
        bytes += size;
        count++;
      }
      const group = this.buffer.splice(0, count);
      this.wake();
      const wait = this.lastWrite + minIntervalMs - Date.now();
      if (wait > 0) await sleep(wait);
      await this.write(group);
    }
  }

  /** One write, retried while the target is unavailable, split while it refuses what the batch carries. */
  private async write(group: Encoded[]): Promise<void> {
    try {
      await retrying(
        `writing ${group.length} records to the ${this.target.description}`,
        () => {
          this.lastWrite = Date.now();
          return this.target.write(group.map((g) => g.line));
        },
        undefined,
        (error, delay) => this.log.warn(`${error.message}; retrying in ${(delay / 1000).toFixed(1)} s`),
      );
    } catch (error) {
      if (!(error instanceof RejectedError)) throw error;
      if (group.length === 1) {
        await this.pipeline.fail({ item: group[0]!.item, error: new ItemError(error.code || `http_${error.status}`, error.message) });
        return;
      }
      const half = Math.ceil(group.length / 2);
      await this.write(group.slice(0, half));
      await this.write(group.slice(half));
      return;
    }
    await this.pipeline.acknowledged(group.map((g) => g.item));
  }
}
