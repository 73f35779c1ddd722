// Index generations: an index paired with the embedders that fill and search
// it, and so with one model. Normally there is one, the primary (VECTORIZE or
// VECTORIZE_URL, with EMBEDDER / EMBEDDER_URLS). During a model migration
// there is a second, the next (VECTORIZE_NEXT or VECTORIZE_NEXT_URL, with
// EMBEDDER_NEXT / EMBEDDER_NEXT_URLS): writes go to both, each embedded by
// its own embedders, and searches go to the active one, which the promotion
// record in KV names (cache/index-version.ts; the primary while there is
// none). A search runs entirely on one generation: its index, its embedders,
// its cache keys (scoped by the index's name), so two embedding spaces never
// meet. See worker/README.md#changing-the-model.
import type { KVNamespace } from '@cloudflare/workers-types/index.ts';
import type { IndexState, IndexVersion } from './cache/index-version.ts';
import type { BreakerState } from './embedding/circuit-breaker.ts';
import type { EmbedderClient, ModelInfo } from './embedding/embedder-client.ts';
import type { Defer, QueryEmbedder } from './embedding/query-embedder.ts';
import { ApiError } from './errors.ts';
import type { SearchService } from './search/search-service.ts';
import type { SearchIndex } from './vectorize/search-index.ts';

export type Slot = 'primary' | 'next';

export interface Generation {
  /** The index's name (INDEX_NAME / INDEX_NEXT_NAME): what the promotion record names, and the scope of its cache keys. */
  name: string;
  slot: Slot;
  index: SearchIndex;
  /** Its own embedders: the only ones whose vectors go into, or are searched against, this index. */
  client: EmbedderClient;
  embeddings: QueryEmbedder;
  search: SearchService;
}

/** What KV knows of an index (`meta:index:<name>`), written by the worker's own writes and by a promotion. */
export interface IndexRecord {
  /** The model whose vectors the index holds (unknown while the worker has only deleted from it). */
  model?: string;
  /** The worker's last write to it. */
  lastMutation?: { id: string; at: string };
}

export interface Resolved {
  state: IndexState;
  /** Where searches go. */
  active: Generation;
  /** The other configured index: "next" until it is promoted, "previous" after (until a redeploy removes it). */
  other?: { generation: Generation; role: 'next' | 'previous' };
  /** Every configured index, the active one first: writes go to each, embedded by its own embedders. */
  writes: Generation[];
  /** The promotion record names an index that is not configured (a redeploy renamed or removed it): the primary is used. */
  unknownPromotion: boolean;
}

const recordKey = (name: string) => `meta:index:${name}`;

export class Generations {
  readonly #records = new Map<string, { record: IndexRecord | null; at: number }>();
  #warnedUnknown = '';

  constructor(
    readonly primary: Generation,
    readonly next: Generation | undefined,
    readonly version: IndexVersion,
    private readonly kv: KVNamespace | undefined,
    /** How long an isolate trusts an index record it read (INDEX_VERSION_TTL_MS). */
    private readonly ttlMs: number,
  ) {}

  /** Every configured embedder upstream's circuit, the primary's first. */
  circuits(): BreakerState[] {
    return [this.primary, ...(this.next ? [this.next] : [])].flatMap((g) => g.client.circuits());
  }

  /** Which generation is active now, from the promotion record (read at most once per TTL). */
  async resolve(): Promise<Resolved> {
    const state = await this.version.state();
    const named = state.promotion?.index;
    const promoted = this.next !== undefined && named === this.next.name;
    const unknownPromotion = named !== undefined && named !== this.primary.name && !promoted;
    if (unknownPromotion && this.#warnedUnknown !== named) {
      this.#warnedUnknown = named;
      console.error(`the promotion record names index ${named}, which is not configured; searching ${this.primary.name} (worker/README.md#changing-the-model)`);
    }
    const active = promoted ? this.next! : this.primary;
    const otherGeneration = promoted ? this.primary : this.next;
    const other = otherGeneration && { generation: otherGeneration, role: promoted ? ('previous' as const) : ('next' as const) };
    return { state, active, ...(other ? { other } : {}), writes: other ? [active, other.generation] : [active], unknownPromotion };
  }

  /**
   * The generation a search runs on, once its embedders are shown to serve the model its index
   * holds. Their model is asked once per isolate (then remembered, as every embedding needs it);
   * while they are unreachable, what KV remembers of it is checked, and a search that needs no
   * embedder (a vector, a stored item) goes on when nothing is known.
   */
  async forSearch(defer: Defer): Promise<Generation> {
    const { active } = await this.resolve();
    const model = await active.embeddings.model(defer).catch(() => undefined);
    if (model) await this.assertPaired(active, model.id);
    return active;
  }

  /**
   * The model of a generation's embedders, asked afresh, for a write: its vectors will be stored
   * under that model, so it must be the one the index holds.
   */
  async modelForWrite(generation: Generation, defer: Defer): Promise<ModelInfo> {
    let model: ModelInfo;
    try {
      model = await generation.client.model();
    } catch {
      // Unreachable: what this isolate or KV knows (a vector-only write needs no embedder).
      model = await generation.embeddings.model(defer);
    }
    await this.assertPaired(generation, model.id);
    return model;
  }

  /** Never one index with another model's vectors: 502 model_mismatch when the embedders serve another model than the index holds. */
  async assertPaired(generation: Generation, model: string): Promise<void> {
    const record = await this.record(generation);
    if (record?.model !== undefined && record.model !== model)
      throw new ApiError(
        502,
        'model_mismatch',
        `index ${generation.name} holds vectors of model ${record.model}, but its embedders serve ${model}: ` +
          'a new model needs a new index (worker/README.md#changing-the-model)',
      );
  }

  /** The index's record in KV, trusted for the TTL. */
  async record(generation: Generation): Promise<IndexRecord | null> {
    const cached = this.#records.get(generation.name);
    if (cached && (!this.kv || Date.now() - cached.at < this.ttlMs)) return cached.record;
    let record: IndexRecord | null = cached?.record ?? null;
    try {
      const stored = await this.kv?.get<IndexRecord>(recordKey(generation.name), 'json');
      if (stored !== undefined) record = stored && typeof stored === 'object' ? stored : null;
    } catch {
      // KV unreachable: keep what we had.
    }
    this.#records.set(generation.name, { record, at: Date.now() });
    return record;
  }

  /** Notes a write by the worker: its mutation, and the model of its vectors (a delete keeps the recorded one). */
  async recordWrite(generation: Generation, mutationId: string, model?: string): Promise<void> {
    const known = model ?? (await this.record(generation))?.model;
    await this.#store(generation, { ...(known !== undefined ? { model: known } : {}), lastMutation: { id: mutationId, at: new Date().toISOString() } });
  }

  /** Notes the model of an index's vectors (a promotion checked them), keeping its last mutation. */
  async recordModel(generation: Generation, model: string): Promise<void> {
    const previous = await this.record(generation);
    await this.#store(generation, { model, ...(previous?.lastMutation ? { lastMutation: previous.lastMutation } : {}) });
  }

  async #store(generation: Generation, record: IndexRecord): Promise<void> {
    this.#records.set(generation.name, { record, at: Date.now() });
    await this.kv?.put(recordKey(generation.name), JSON.stringify(record)).catch((error: unknown) => {
      // Only the model check and /v1/stats read it: the write itself stands.
      console.warn(`the record of index ${generation.name} was not stored`, error);
    });
  }
}
