// The models one embedder serves, each behind its own EmbeddingService (its
// own sessions and batch queues), found by the name clients give as `model`.
// The first is the default: it answers requests that name no model.
import type { EmbeddingService } from './embedding-service.ts';

export class ModelNotFoundError extends Error {
  override readonly name = 'ModelNotFoundError';

  constructor(
    readonly requested: string,
    readonly available: readonly string[],
  ) {
    super(`model "${requested}" is not served here; this embedder serves ${available.map((name) => `"${name}"`).join(', ')}`);
  }
}

export class ModelSet {
  readonly #byName = new Map<string, EmbeddingService>();

  constructor(readonly all: readonly EmbeddingService[]) {
    if (all.length === 0) throw new Error('an embedder serves at least one model');
    for (const service of all) {
      if (this.#byName.has(service.name)) throw new Error(`two models are named "${service.name}"`);
      this.#byName.set(service.name, service);
    }
  }

  /** The model that answers requests naming none: the first configured. */
  get default(): EmbeddingService {
    return this.all[0]!;
  }

  get names(): string[] {
    return this.all.map((service) => service.name);
  }

  serves(name: string): boolean {
    return this.#byName.has(name);
  }

  /** The model named `name`, or the default when none is named; ModelNotFoundError for a name not served. */
  select(name: string | undefined): EmbeddingService {
    if (name === undefined) return this.default;
    const service = this.#byName.get(name);
    if (!service) throw new ModelNotFoundError(name, this.names);
    return service;
  }

  /** Every model warmed up. */
  get ready(): boolean {
    return this.all.every((service) => service.ready);
  }

  /** One model after another, so their first inferences do not compete for the same cores. */
  async warmUp(): Promise<void> {
    for (const service of this.all) await service.warmUp();
  }

  /** Finishes everything queued for every model; new work is refused. */
  async drain(): Promise<void> {
    await Promise.all(this.all.map((service) => service.drain()));
  }

  /** Releases every model's sessions. */
  async close(): Promise<void> {
    await Promise.allSettled(this.all.map((service) => service.clip.close()));
  }
}
