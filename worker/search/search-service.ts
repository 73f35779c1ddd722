// A search end to end: cache lookup under a canonical key, coalescing of
// identical concurrent misses, embedding, the index query, and the fallbacks
// (stale-while-revalidate, stale-if-error) when a dependency is down.
import type { VectorizeMatch, VectorizeQueryOptions } from '@cloudflare/workers-types/index.ts';
import { etagOf, type CachedResult, type ResultCache, type SearchPayload } from '../cache/result-cache.ts';
import type { IndexVersion } from '../cache/index-version.ts';
import type { Config } from '../config.ts';
import type { Defer, QueryEmbedder } from '../embedding/query-embedder.ts';
import { ApiError, EmbedderUnavailableError, IndexUnavailableError } from '../errors.ts';
import { elapsedMs } from '../lib/elapsed.ts';
import { sha256Hex } from '../lib/hash.ts';
import { SingleFlight } from '../lib/single-flight.ts';
import { topKCap, type Filter, type MetadataLevel } from '../schemas.ts';
import type { SearchIndex } from '../vectorize/search-index.ts';

export type SearchInput =
  | { type: 'text'; text: string }
  | { type: 'image'; bytes: Uint8Array }
  | { type: 'vector'; vector: number[] }
  | { type: 'id'; id: string };

export interface SearchOptions {
  k: number;
  namespace?: string | undefined;
  filter?: Filter | undefined;
  metadata: MetadataLevel;
}

export interface Timings {
  embedMs: number;
  searchMs: number;
  totalMs: number;
}

export interface SearchOutcome {
  /** The SearchPayload as JSON. */
  json: string;
  etag: string;
  cache: 'hit' | 'miss' | 'stale';
  /** Seconds since the result was computed (0 for a miss). */
  ageSeconds: number;
  timings: Timings;
}

interface Computed {
  json: string;
  etag: string;
  embedMs: number;
  searchMs: number;
}

interface Deps {
  config: Config;
  embeddings: QueryEmbedder;
  index: SearchIndex;
  version: IndexVersion;
  results: ResultCache;
}

export class SearchService {
  readonly #flights: SingleFlight<Computed>;

  constructor(private readonly deps: Deps) {
    this.#flights = new SingleFlight(deps.config.EMBEDDER_TIMEOUT_MS + deps.config.VECTORIZE_TIMEOUT_MS);
  }

  async search(origin: string, input: SearchInput, options: SearchOptions, defer: Defer): Promise<SearchOutcome> {
    const started = performance.now();
    const { results, version } = this.deps;
    const prepared = await prepare(input, options);
    const key = await results.key(origin, { ...prepared.descriptor, v: await version.current() });
    const cached = await results.get(key);
    const zero = { embedMs: 0, searchMs: 0 };

    const fromCache = (cache: 'hit' | 'stale', entry: CachedResult): SearchOutcome => ({
      json: entry.json,
      etag: entry.etag,
      cache,
      ageSeconds: entry.ageSeconds,
      timings: { ...zero, totalMs: elapsedMs(started) },
    });
    if (cached?.freshness === 'fresh') return fromCache('hit', cached);
    const compute = () => this.#flights.run(key, () => this.#compute(key, prepared, options, defer));
    if (cached?.freshness === 'revalidate') {
      defer(compute().catch(() => undefined));
      return fromCache('stale', cached);
    }
    try {
      const { json, etag, embedMs, searchMs } = await compute();
      return { json, etag, cache: 'miss', ageSeconds: 0, timings: { embedMs, searchMs, totalMs: elapsedMs(started) } };
    } catch (error) {
      const dependencyDown = error instanceof EmbedderUnavailableError || error instanceof IndexUnavailableError;
      if (cached && dependencyDown) return fromCache('stale', cached);
      throw error;
    }
  }

  async #compute(key: string, prepared: Prepared, options: SearchOptions, defer: Defer): Promise<Computed> {
    const { embeddings, index, results, config } = this.deps;
    const { input } = prepared;
    const embedStarted = performance.now();
    let vector: Float32Array | undefined;
    let model: string | null = null;
    if (input.type === 'text' || input.type === 'image') {
      const embedded = input.type === 'text' ? await embeddings.text(input.text, defer) : await embeddings.image(input.bytes, prepared.hash, defer);
      vector = embedded.vector;
      model = embedded.model;
    } else {
      if (input.type === 'vector') {
        const dimensions = await index.dimensions();
        if (input.vector.length !== dimensions)
          throw new ApiError(400, 'dimension_mismatch', `vector has ${input.vector.length} dimensions; the index has ${dimensions}`);
        vector = prepared.vector;
      }
      model = (await embeddings.knownModel().catch(() => undefined))?.id ?? null;
    }
    const embedMs = input.type === 'text' || input.type === 'image' ? elapsedMs(embedStarted) : 0;

    const searchStarted = performance.now();
    const query: VectorizeQueryOptions = { topK: options.k, returnMetadata: options.metadata };
    if (options.namespace !== undefined) query.namespace = options.namespace;
    if (options.filter !== undefined) query.filter = options.filter as NonNullable<VectorizeQueryOptions['filter']>;
    let matches: VectorizeMatch[];
    if (input.type === 'id') {
      matches = await this.#moreLikeThis(input.id, query, topKCap(config, options.metadata), options.k);
    } else {
      try {
        matches = (await index.query(vector!, query)).matches;
      } catch (error) {
        // The embedder's model and the index disagree: our configuration, not the client's request.
        if (error instanceof ApiError && error.code === 'dimension_mismatch' && input.type !== 'vector')
          throw new ApiError(502, 'index_error', `the embedder's vectors do not fit the index: ${error.message}`);
        throw error;
      }
    }
    const searchMs = elapsedMs(searchStarted);

    const payload: SearchPayload = {
      query: prepared.echo,
      results: matches.map((m) => ({
        id: m.id,
        score: m.score,
        ...(options.metadata !== 'none' && m.metadata ? { metadata: m.metadata as Record<string, unknown> } : {}),
      })),
      model,
    };
    const json = JSON.stringify(payload);
    const etag = await etagOf(json);
    defer(results.put(key, json, etag));
    return { json, etag, embedMs, searchMs };
  }

  /** Items like a stored one, leaving the item itself out (so one more is asked for, within the cap). */
  async #moreLikeThis(id: string, query: VectorizeQueryOptions, cap: number, k: number): Promise<VectorizeMatch[]> {
    const { index } = this.deps;
    const notFound = () => new ApiError(404, 'item_not_found', `no item with id ${JSON.stringify(id)}`);
    let matches: VectorizeMatch[];
    try {
      matches = (await index.queryById(id, { ...query, topK: Math.min(k + 1, cap) })).matches;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) throw notFound();
      throw error;
    }
    // Upstream's answer for an unknown id is undocumented: an empty result is checked.
    if (matches.length === 0 && (await index.getByIds([id])).length === 0) throw notFound();
    return matches.filter((m) => m.id !== id).slice(0, k);
  }
}

interface Prepared {
  input: SearchInput;
  /** SHA-256 of the image or vector bytes ('' for text and id). */
  hash: string;
  descriptor: Record<string, unknown>;
  echo: Record<string, unknown>;
  /** A vector input as float32 (vector inputs only). */
  vector?: Float32Array;
}

async function prepare(input: SearchInput, options: SearchOptions): Promise<Prepared> {
  const shared = {
    k: options.k,
    ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    ...(options.filter !== undefined ? { filter: options.filter } : {}),
    metadata: options.metadata,
  };
  const keyed = { k: options.k, namespace: options.namespace ?? null, filter: options.filter ?? null, metadata: options.metadata };
  switch (input.type) {
    case 'text':
      return { input, hash: '', descriptor: { type: 'text', text: input.text, ...keyed }, echo: { type: 'text', text: input.text, ...shared } };
    case 'image': {
      const hash = await sha256Hex(input.bytes);
      return { input, hash, descriptor: { type: 'image', sha256: hash, ...keyed }, echo: { type: 'image', sha256: hash, ...shared } };
    }
    case 'vector': {
      // Keyed by the float32 bytes the index will see.
      const vector = Float32Array.from(input.vector);
      const hash = await sha256Hex(vector);
      return {
        input,
        hash,
        vector,
        descriptor: { type: 'vector', sha256: hash, ...keyed },
        echo: { type: 'vector', dimensions: input.vector.length, ...shared },
      };
    }
    case 'id':
      return { input, hash: '', descriptor: { type: 'id', id: input.id, ...keyed }, echo: { type: 'id', id: input.id, ...shared } };
  }
}
