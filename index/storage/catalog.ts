// All indexes under <dataDir>/indexes/<name>/. Creating writes the config
// into a temporary directory and renames it into place; deleting renames the
// directory aside before removing it, so a crash never leaves half an index.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ApiError, CODES, indexNotFound } from '../errors.ts';
import type { IndexConfig } from '../types.ts';
import { DurableIndex, type DurabilityOptions } from './durable-index.ts';
import { syncDir, writeFileAtomic } from './fsutil.ts';

export interface CatalogOptions extends DurabilityOptions {
  /** Snapshot an index whose log is non-empty at least this often. */
  snapshotIntervalMs: number;
}

export class Catalog {
  private readonly indexes = new Map<string, DurableIndex>();
  /** Indexes whose files could not be loaded, with the reason. */
  private readonly broken = new Map<string, string>();
  private readonly creating = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly root: string,
    private readonly options: CatalogOptions,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => this.periodicSnapshots(), Math.min(options.snapshotIntervalMs, 60_000));
    this.timer.unref();
  }

  static async open(dataDir: string, options: CatalogOptions, logger: Logger): Promise<Catalog> {
    const root = join(dataDir, 'indexes');
    await mkdir(root, { recursive: true });
    const catalog = new Catalog(root, options, logger);
    for (const entry of await readdir(root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(root, entry.name);
      if (entry.name.startsWith('.')) {
        await rm(dir, { recursive: true, force: true }); // an unfinished create or delete
        continue;
      }
      try {
        const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as IndexConfig;
        const durable = await DurableIndex.open(dir, config, options, logger);
        catalog.indexes.set(config.name, durable);
        logger.info(
          { index: config.name, vectors: durable.index.vectorCount, ...durable.recovery },
          'index loaded',
        );
      } catch (error) {
        catalog.broken.set(entry.name, (error as Error).message);
        logger.error({ index: entry.name, err: error }, 'index could not be loaded; it answers 500 until repaired');
      }
    }
    return catalog;
  }

  list(): IndexConfig[] {
    return [...this.indexes.values()].map((d) => d.config).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  get(name: string): DurableIndex {
    const durable = this.indexes.get(name);
    if (durable) return durable;
    const reason = this.broken.get(name);
    if (reason !== undefined) throw new ApiError(500, CODES.internal, `index "${name}" failed to load: ${reason}`);
    throw indexNotFound(name);
  }

  async create(config: IndexConfig): Promise<IndexConfig> {
    const { name } = config;
    if (this.indexes.has(name) || this.broken.has(name) || this.creating.has(name))
      throw new ApiError(400, CODES.indexAlreadyExists, `vectorize.index.duplicate_name: an index named "${name}" already exists`);
    this.creating.add(name);
    try {
      const tmp = join(this.root, `.create-${randomUUID()}`);
      await mkdir(tmp);
      await writeFileAtomic(join(tmp, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
      const dir = join(this.root, name);
      await rename(tmp, dir);
      await syncDir(this.root);
      this.indexes.set(name, await DurableIndex.open(dir, config, this.options, this.logger));
      return config;
    } finally {
      this.creating.delete(name);
    }
  }

  async delete(name: string): Promise<void> {
    const durable = this.get(name);
    this.indexes.delete(name);
    await durable.close({ snapshot: false });
    const trash = join(this.root, `.delete-${randomUUID()}`);
    await rename(durable.dir, trash);
    await syncDir(this.root);
    await rm(trash, { recursive: true, force: true });
  }

  private periodicSnapshots(): void {
    const now = Date.now();
    for (const durable of this.indexes.values()) {
      if (durable.walBytes === 0 || now - durable.lastSnapshotAt < this.options.snapshotIntervalMs) continue;
      durable.snapshot().catch((error: unknown) => this.logger.error({ index: durable.config.name, err: error }, 'snapshot failed'));
    }
  }

  /** Finishes in-flight writes and snapshots every index. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.indexes.values()].map((d) => d.close({ snapshot: true })));
    this.indexes.clear();
  }
}
