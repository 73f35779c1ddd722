// Query embeddings: KV first (keyed by model and a hash of the canonical text
// or of the image bytes), so a repeated query anywhere skips the embedder;
// identical concurrent misses in this isolate share one embedder call.
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
    const key = `emb:${model.id}:i:${sha256}`;
    return this.#flights.run(key, () => this.#cached(key, model, defer, async () => (await this.client.embedImages([bytes]))[0]!));
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
        if (stored?.id !== model.id || stored.dim !== model.dim) defer(this.kv.put(MODEL_KEY, JSON.stringify(model)));
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
      const value = await this.kv.get<ModelInfo>(MODEL_KEY, 'json');
      return value && typeof value.id === 'string' && typeof value.dim === 'number' ? value : undefined;
    } catch {
      return undefined;
    }
  }

  async #cached(key: string, model: ModelInfo, defer: Defer, embed: () => Promise<Float32Array>): Promise<QueryEmbedding> {
    if (this.kv) {
      const stored = await this.kv.get(key, 'arrayBuffer').catch(() => null);
      if (stored && stored.byteLength === model.dim * 4) return { vector: new Float32Array(stored), model: model.id };
    }
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
