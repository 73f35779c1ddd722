// One index made durable: every mutation is appended to the write-ahead log
// and fsynced before it is applied and acknowledged; snapshots cut the log.
// Durable mutations are applied in log order by an ApplyQueue, a large batch
// in chunks with queries answered in between.
//
// Files in the index directory:
//   config.json           index configuration (written once, atomically)
//   snapshot-<g>.bin      state after everything before wal-<g>.log
//   graph-<g>.usearch     the HNSW graph at the same point
//   wal-<g>.log, ...      mutations since; replayed in generation order
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { VectorIndex, type IndexSnapshotSource, type SearchTuning } from '../engine/vector-index.ts';
import type { IndexConfig, Mutation } from '../types.ts';
import { ApplyQueue } from './apply-queue.ts';
import { decodeMutation, encodeMutation } from './codec.ts';
import { graphFile, graphTmpFile, readSnapshot, snapshotFile, writeSnapshot } from './snapshot.ts';
import { readWal, WalClosedError, WalWriter } from './wal.ts';

export interface DurabilityOptions {
  /** Take a snapshot once the current log holds this many bytes. */
  snapshotWalBytes: number;
  tuning: SearchTuning;
}

const walFile = (dir: string, generation: number) => join(dir, `wal-${generation}.log`);

function generations(files: string[], pattern: RegExp): number[] {
  return files
    .map((f) => pattern.exec(f)?.[1])
    .filter((g): g is string => g !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

export interface RecoveryReport {
  snapshotGeneration: number | null;
  replayedMutations: number;
  walProblems: string[];
  graphRebuilt: boolean;
}

export class DurableIndex {
  private snapshotting: Promise<void> | null = null;
  private closed = false;
  lastSnapshotAt = Date.now();
  /** How long the last snapshot took (null before the first); for /metrics. */
  lastSnapshotMs: number | null = null;
  private readonly applier: ApplyQueue;

  private constructor(
    readonly dir: string,
    readonly index: VectorIndex,
    private readonly wal: WalWriter,
    private generation: number,
    private readonly options: DurabilityOptions,
    private readonly logger: Logger,
    readonly recovery: RecoveryReport,
  ) {
    this.applier = new ApplyQueue(index);
  }

  get config(): IndexConfig {
    return this.index.config;
  }

  get walBytes(): number {
    return this.wal.bytes;
  }

  /** Loads the newest snapshot and replays the logs after it. */
  static async open(dir: string, config: IndexConfig, options: DurabilityOptions, logger: Logger): Promise<DurableIndex> {
    const files = await readdir(dir);
    await Promise.all(files.filter((f) => f.endsWith('.tmp')).map((f) => rm(join(dir, f), { force: true })));
    const snapshots = generations(files, /^snapshot-(\d+)\.bin$/);
    const logs = generations(files, /^wal-(\d+)\.log$/);
    const index = new VectorIndex(config, options.tuning);
    const report: RecoveryReport = { snapshotGeneration: null, replayedMutations: 0, walProblems: [], graphRebuilt: false };

    const base = snapshots.at(-1) ?? 0;
    if (snapshots.length > 0) {
      const header = await readSnapshot(snapshotFile(dir, base), {
        begin: (h) => index.beginRestore(h.meta, h.vectorCount),
        rows: (records, values) => index.restoreRows(records, values),
      });
      report.snapshotGeneration = base;
      const restored = index.finishRestore((graph) => {
        if (!header.hasGraph) return false;
        try {
          graph.load(graphFile(dir, base));
          return true;
        } catch (error) {
          logger.warn({ index: config.name, err: error }, 'HNSW graph file unreadable; rebuilding from vectors');
          return false;
        }
      });
      report.graphRebuilt = !restored;
    }
    const replay = logs.filter((g) => g >= base);
    for (const g of replay) {
      const { records, problem } = await readWal(walFile(dir, g), logger, (payload) => index.apply(decodeMutation(payload)));
      if (problem !== undefined) report.walProblems.push(problem);
      report.replayedMutations += records;
    }
    const current = replay.at(-1) ?? base;
    await removeGenerationsBelow(dir, files, base);
    const wal = await WalWriter.open(walFile(dir, current));
    return new DurableIndex(dir, index, wal, current, options, logger, report);
  }

  /** Resolves once the mutation is durable and applied. */
  async commit(mutation: Mutation): Promise<void> {
    if (this.closed) throw new WalClosedError();
    let applied: Promise<void> | undefined;
    await this.wal.append(encodeMutation(mutation), () => {
      applied = this.applier.enqueue(mutation);
    });
    await applied;
    if (this.wal.bytes >= this.options.snapshotWalBytes && !this.snapshotting)
      this.snapshot().catch((error: unknown) =>
        this.logger.error({ index: this.config.name, err: error }, 'snapshot failed'),
      );
  }

  /** Snapshots the state as of this call and drops the logs it covers (no-op when the log is empty). */
  async snapshot(): Promise<void> {
    // One already running was cut before writes the caller may expect covered:
    // let it finish, then snapshot whatever the log holds since.
    while (this.snapshotting) await this.snapshotting.catch(() => {});
    this.snapshotting = this.takeSnapshot().finally(() => {
      this.snapshotting = null;
    });
    return this.snapshotting;
  }

  private async takeSnapshot(): Promise<void> {
    if (this.wal.bytes === 0) return;
    const next = this.generation + 1;
    const started = performance.now();
    this.logger.info({ index: this.config.name, generation: next, walBytes: this.wal.bytes }, 'snapshot started');
    let captured: { source: IndexSnapshotSource; hasGraph: boolean } | undefined;
    await this.wal.rotate(walFile(this.dir, next), async () => {
      // The old log must hold exactly the mutations applied: let the ones still
      // being applied finish (the log takes no writes meanwhile).
      await this.applier.idle();
      let hasGraph = false;
      try {
        this.index.saveGraph(graphTmpFile(this.dir, next));
        hasGraph = true;
      } catch (error) {
        this.logger.warn({ index: this.config.name, err: error }, 'could not save HNSW graph; snapshot without it');
      }
      captured = { source: this.index.snapshotSource(), hasGraph };
    });
    this.generation = next;
    const { source, hasGraph } = captured!;
    let bytes: number;
    try {
      bytes = await writeSnapshot(this.dir, next, this.config.dimensions, source, hasGraph);
    } finally {
      source.release();
    }
    await removeGenerationsBelow(this.dir, await readdir(this.dir), next);
    this.lastSnapshotAt = Date.now();
    this.lastSnapshotMs = performance.now() - started;
    this.logger.info(
      { index: this.config.name, generation: next, vectors: source.records.length, bytes, ms: Math.round(this.lastSnapshotMs) },
      'snapshot written',
    );
  }

  /** Finishes queued writes; with `snapshot`, leaves a snapshot so the next start is quick. */
  async close({ snapshot }: { snapshot: boolean }): Promise<void> {
    if (this.closed) return;
    if (snapshot) await this.snapshot().catch((error: unknown) => this.logger.error({ err: error }, 'final snapshot failed'));
    this.closed = true;
    await this.snapshotting?.catch(() => {});
    await this.wal.close();
    await this.applier.idle();
  }
}

async function removeGenerationsBelow(dir: string, files: string[], generation: number): Promise<void> {
  const stale = files.filter((f) => {
    const g = /^(?:wal|snapshot|graph)-(\d+)\.(?:log|bin|usearch)$/.exec(f)?.[1];
    return g !== undefined && Number(g) < generation;
  });
  await Promise.all(stale.map((f) => rm(join(dir, f), { force: true })));
}
