// Query embeddings: KV first (keyed by model and a hash of the canonical text
// or of the image bytes), so a repeated query anywhere skips the embedder;
// identical concurrent misses in this isolate share one embedder call. Images
// embedded for admin writes are kept beside them (`emb:<model>:w:<sha256>`),
// so they can be searched for by their hash (GET /v1/search?image=sha256:<hex>)
// without ever having been a query.
import type { KVNamespace } from '@cloudflare/workers-types/index.ts';
import { sha256Hex } from '../lib/hash.ts';
import { SingleFlight } from '../lib/single-flight.ts';
import type { EmbedderClient, ModelInfo } from './embedder-client.ts';

export interface QueryEmbedding {
  vector: Float32Array;
  model: string;
}

/** Work to finish after the response (ExecutionContext.waitUntil). */
export type Defer = (promise: Promise<unknown>) => void;

const MODEL_KEY = 'meta:model';

const imageKey = (model: ModelInfo, sha256: string) => `emb:${model.id}:i:${sha256}`;
/** Images embedded for admin writes: apart from the query embeddings, whose reuse stays what searches made it. */
const writtenImageKey = (model: ModelInfo, sha256: string) => `emb:${model.id}:w:${sha256}`;

export class QueryEmbedder {
  readonly #flights: SingleFlight<QueryEmbedding>;
  readonly #modelFlight: SingleFlight<ModelInfo>;
  #model: ModelInfo | undefined;

  constructor(
    private readonly client: EmbedderClient,
    private readonly kv: KVNamespace | undefined,
    private readonly ttlSeconds: number,
    /** How long a coalesced caller waits for the call it joined before making its own. */
    followerWaitMs: number,
    /** Where KV remembers this embedder set's model: one key per index generation (worker/generations.ts). */
    private readonly modelKey = MODEL_KEY,
  ) {
    this.#flights = new SingleFlight(followerWaitMs);
    this.#modelFlight = new SingleFlight(followerWaitMs);
  }

  /** `text` must already be canonical (see canonicalText). */
  async text(text: string, defer: Defer): Promise<QueryEmbedding> {
    const model = await this.model(defer);
    const key = `emb:${model.id}:t:${await sha256Hex(text)}`;
    return this.#flights.run(key, () => this.#cached(key, model, defer, async () => (await this.client.embedTexts([text]))[0]!));
  }

  async image(bytes: Uint8Array, sha256: string, defer: Defer): Promise<QueryEmbedding> {
    const model = await this.model(defer);
    const key = imageKey(model, sha256);
    return this.#flights.run(key, () => this.#cached(key, model, defer, async () => (await this.client.embedImages([bytes]))[0]!));
  }

  /** The embedding of the image with this SHA-256 if KV has it (from an earlier search or write); never calls the embedder for it. */
  async imageByHash(sha256: string, defer: Defer): Promise<QueryEmbedding | undefined> {
    const model = await this.model(defer);
    const stored = (await this.#stored(imageKey(model, sha256), model)) ?? (await this.#stored(writtenImageKey(model, sha256), model));
    return stored && { vector: stored, model: model.id };
  }

  /**
   * Embeds images for an admin write (one embedder call, as `client.embedImages`)
   * and stores each embedding under its image's hash before returning, so the
   * written images can be searched for by hash at once.
   */
  async embedImagesAndRemember(images: Uint8Array[]): Promise<Float32Array[]> {
    const pending: Promise<unknown>[] = [];
    const defer: Defer = (promise) => void pending.push(promise);
    const [model, vectors] = await Promise.all([this.model(defer), this.client.embedImages(images)]);
    if (this.kv) {
      const kv = this.kv;
      await Promise.all(
        vectors.map(async (vector, i) => {
          if (vector.length !== model.dim) return;
          const key = writtenImageKey(model, await sha256Hex(images[i]!));
          await kv.put(key, vector.slice().buffer, { expirationTtl: this.ttlSeconds }).catch((error: unknown) => {
            console.warn('image embedding not stored in KV; that image is not searchable by hash', error);
          });
        }),
      );
    }
    await Promise.allSettled(pending);
    return vectors;
  }

  /**
   * The embedder's model: asked once per isolate and remembered in KV, so
   * cached embeddings stay usable in a fresh isolate while the embedder is down.
   */
  async model(defer: Defer): Promise<ModelInfo> {
    if (this.#model) return this.#model;
    return this.#modelFlight.run('model', () => this.#discover(defer));
  }

  /** The model if this isolate or KV knows it, without calling the embedder. */
  async knownModel(): Promise<ModelInfo | undefined> {
    if (this.#model) return this.#model;
    const stored = await this.#storedModel();
    if (stored) this.#model = stored;
    return stored;
  }

  async #discover(defer: Defer): Promise<ModelInfo> {
    try {
      const model = await this.client.model();
      this.#model = model;
      if (this.kv) {
        const stored = await this.#storedModel();
        if (stored?.id !== model.id || stored.dim !== model.dim) defer(this.kv.put(this.modelKey, JSON.stringify(model)));
      }
      return model;
    } catch (error) {
      const stored = await this.#storedModel();
      if (stored) return stored;
      throw error;
    }
  }

  async #storedModel(): Promise<ModelInfo | undefined> {
    if (!this.kv) return undefined;
    try {
      const value = await this.kv.get<ModelInfo>(this.modelKey, 'json');
      if (!value || typeof value.id !== 'string' || typeof value.dim !== 'number') return undefined;
      // Remembered under an earlier EMBEDDER_MODEL: its id would key this model's embeddings as another's.
      const requested = this.client.requestedModel;
      return requested === undefined || value.id === requested ? value : undefined;
    } catch {
      return undefined;
    }
  }

  async #stored(key: string, model: ModelInfo): Promise<Float32Array | undefined> {
    const stored = await this.kv?.get(key, 'arrayBuffer').catch(() => null);
    return stored && stored.byteLength === model.dim * 4 ? new Float32Array(stored) : undefined;
  }

  async #cached(key: string, model: ModelInfo, defer: Defer, embed: () => Promise<Float32Array>): Promise<QueryEmbedding> {
    const stored = await this.#stored(key, model);
    if (stored) return { vector: stored, model: model.id };
    const vector = await embed();
    if (vector.length !== model.dim) {
      // The embedder now serves another model: forget ours and let the next query rediscover it.
      this.#model = undefined;
    } else if (this.kv) {
      const copy = vector.slice().buffer;
      defer(this.kv.put(key, copy, { expirationTtl: this.ttlSeconds }).catch(() => undefined));
    }
    return { vector, model: model.id };
  }
}
