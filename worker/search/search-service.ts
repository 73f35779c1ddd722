// A search end to end: cache lookup under a canonical key, coalescing of
// identical concurrent misses, embedding (one query, or the weighted parts of
// a combined one), the index query over the window a page needs, relevance
// cutoffs and near-duplicate removal, the page and its signed cursor, and the
// fallbacks (stale-while-revalidate, stale-if-error) when a dependency is
// down. A search after a write the index has not applied yet is computed
// fresh and not cached.
import type { VectorizeMatch, VectorizeQueryOptions } from '@cloudflare/workers-types/index.ts';
import { etagOf, type CachedResult, type ResultCache, type SearchPayload } from '../cache/result-cache.ts';
import type { IndexVersion } from '../cache/index-version.ts';
import type { Config } from '../config.ts';
import type { Defer, QueryEmbedder } from '../embedding/query-embedder.ts';
import { ApiError, EmbedderUnavailableError, IndexUnavailableError } from '../errors.ts';
import { elapsedMs } from '../lib/elapsed.ts';
import { canonicalJson, sha256Hex } from '../lib/hash.ts';
import { SingleFlight } from '../lib/single-flight.ts';
import { topKCap, type Filter, type MetadataLevel } from '../schemas.ts';
import type { SearchIndex } from '../vectorize/search-index.ts';
import { cursorSecret, PageCursors } from './page-cursor.ts';
import { canonicalParts, combine, echoPart, type CanonicalPart, type QueryPart } from './query-parts.ts';
import { applyCutoffs, dropNearDuplicates, type Relevance } from './relevance.ts';

export type SearchInput =
  | { type: 'text'; text: string }
  | { type: 'image'; bytes: Uint8Array }
  | { type: 'image-hash'; sha256: string }
  | { type: 'vector'; vector: number[] }
  | { type: 'id'; id: string }
  | { type: 'parts'; parts: QueryPart[] };

export interface SearchOptions extends Relevance {
  k: number;
  namespace?: string | undefined;
  filter?: Filter | undefined;
  metadata: MetadataLevel;
  /** A nextCursor from an earlier page of the same query. */
  cursor?: string | undefined;
  /** A write's mutationId: cache only once the index has applied it. */
  after?: string | undefined;
}

/**
 * Where this request's time went. `embedMs` and `searchMs` are the parts of its own wait the computation of its
 * results spent embedding and querying the index, so neither exceeds `totalMs`. `shared`: the request joined an
 * identical one's computation already under way (its parts then cover only what happened while it waited).
 */
export interface Timings {
  embedMs: number;
  searchMs: number;
  totalMs: number;
  shared: boolean;
}

export interface SearchOutcome {
  /** The SearchPayload as JSON. */
  json: string;
  etag: string;
  cache: 'hit' | 'miss' | 'stale';
  /** Seconds since the result was computed (0 for a miss). */
  ageSeconds: number;
  timings: Timings;
  /** With `after`: whether the index had applied that write. A pending answer was computed fresh and is not cached. */
  consistency?: 'processed' | 'pending';
}

/** A stretch of time, in `clock()` readings: comparable across the requests that share a computation. */
interface Span {
  from: number;
  to: number;
}

interface Computed {
  json: string;
  etag: string;
  /** When the query was embedded (empty for a vector or id query) and when the index was searched. */
  embed: Span;
  search: Span;
}

interface Deps {
  config: Config;
  embeddings: QueryEmbedder;
  index: SearchIndex;
  version: IndexVersion;
  results: ResultCache;
}

/** Where a page starts, and the query its cursors are signed for. */
interface Page {
  offset: number;
  queryHash: string;
}

export class SearchService {
  readonly #flights: SingleFlight<Computed>;
  readonly #cursors: PageCursors;

  constructor(private readonly deps: Deps) {
    this.#flights = new SingleFlight(deps.config.EMBEDDER_TIMEOUT_MS + deps.config.VECTORIZE_TIMEOUT_MS);
    this.#cursors = new PageCursors(cursorSecret(deps.config));
  }

  async search(origin: string, input: SearchInput, options: SearchOptions, defer: Defer): Promise<SearchOutcome> {
    const started = performance.now();
    const { results, version, index, config } = this.deps;
    const prepared = await prepare(input, options);
    // The cursor is signed for the query and every option but the page and `after`.
    const queryHash = await sha256Hex(canonicalJson(prepared.descriptor));
    const page: Page = { offset: options.cursor === undefined ? 0 : await this.#cursors.offset(options.cursor, queryHash), queryHash };
    const reach = reachable(config, input, options);
    if (page.offset >= reach) throw pagingLimit(reach, options);

    if (options.after !== undefined && !(await index.mutationProcessed(options.after))) {
      const waitFrom = clock();
      const computed = await this.#compute(prepared, options, page, defer);
      return { ...freshAnswer(computed, started, waitFrom, false), consistency: 'pending' };
    }
    const consistency = options.after === undefined ? {} : { consistency: 'processed' as const };
    const key = await results.key(origin, {
      ...prepared.descriptor,
      ...(page.offset > 0 ? { offset: page.offset } : {}),
      ...(options.after !== undefined ? { after: options.after } : {}),
      v: await version.current(),
    });
    const cached = await results.get(key);
    const zero = { embedMs: 0, searchMs: 0, shared: false };

    const fromCache = (cache: 'hit' | 'stale', entry: CachedResult): SearchOutcome => ({
      json: entry.json,
      etag: entry.etag,
      cache,
      ageSeconds: entry.ageSeconds,
      timings: { ...zero, totalMs: elapsedMs(started) },
      ...consistency,
    });
    if (cached?.freshness === 'fresh') return fromCache('hit', cached);
    // Whether this request ran the computation it got, or joined an identical one's.
    let led = false;
    const compute = () =>
      this.#flights.run(key, async () => {
        led = true;
        const computed = await this.#compute(prepared, options, page, defer);
        defer(results.put(key, computed.json, computed.etag));
        return computed;
      });
    if (cached?.freshness === 'revalidate') {
      defer(compute().catch(() => undefined));
      return fromCache('stale', cached);
    }
    try {
      const waitFrom = clock();
      const computed = await compute();
      return { ...freshAnswer(computed, started, waitFrom, !led), ...consistency };
    } catch (error) {
      const dependencyDown = error instanceof EmbedderUnavailableError || error instanceof IndexUnavailableError;
      if (cached && dependencyDown) return fromCache('stale', cached);
      throw error;
    }
  }

  async #compute(prepared: Prepared, options: SearchOptions, page: Page, defer: Defer): Promise<Computed> {
    const { index, config } = this.deps;
    const { input } = prepared;
    const embedStarted = clock();
    const { vector, model } = await this.#queryVector(prepared, defer);
    const embed = { from: embedStarted, to: input.type === 'vector' || input.type === 'id' ? embedStarted : clock() };

    const searchStarted = clock();
    // Cutting at the widest gap and dropping near-duplicates look at the whole window, so every page is a slice of one ranking.
    const cap = topKCap(config, options.metadata, options.dedupe !== undefined);
    const whole = options.dedupe !== undefined || options.cutoff === 'gap';
    const wanted = whole ? cap : Math.min(cap, page.offset + options.k + (input.type === 'id' ? 1 : 0));
    const query: VectorizeQueryOptions = { topK: wanted, returnMetadata: options.metadata };
    if (options.namespace !== undefined) query.namespace = options.namespace;
    if (options.filter !== undefined) query.filter = options.filter as NonNullable<VectorizeQueryOptions['filter']>;
    if (options.dedupe !== undefined) query.returnValues = true;
    let found: { matches: VectorizeMatch[]; windowFull: boolean };
    if (input.type === 'id') {
      found = await this.#moreLikeThis(input.id, query);
    } else {
      try {
        const { matches } = await index.query(vector!, query);
        found = { matches, windowFull: matches.length >= wanted };
      } catch (error) {
        // The embedder's model and the index disagree: our configuration, not the client's request.
        if (error instanceof ApiError && error.code === 'dimension_mismatch' && input.type !== 'vector')
          throw new ApiError(502, 'index_error', `the embedder's vectors do not fit the index: ${error.message}`);
        throw error;
      }
    }
    const distinct = options.dedupe === undefined ? found.matches : dropNearDuplicates(found.matches, options.dedupe);
    const { kept, cut } = applyCutoffs(distinct, options);
    const matches = kept.slice(page.offset, page.offset + options.k);
    // Past the end of a capped window the index would have more, but it cannot be reached.
    const beyondWindow = found.windowFull && !cut;
    if (page.offset > 0 && matches.length === 0 && beyondWindow) throw pagingLimit(kept.length, options);
    const more = kept.length > page.offset + matches.length || beyondWindow;
    const search = { from: searchStarted, to: clock() };

    const payload: SearchPayload = {
      query: { ...prepared.echo, ...(page.offset > 0 ? { offset: page.offset } : {}), ...(options.after !== undefined ? { after: options.after } : {}) },
      results: matches.map((m) => ({
        id: m.id,
        score: m.score,
        ...(options.metadata !== 'none' && m.metadata ? { metadata: m.metadata as Record<string, unknown> } : {}),
      })),
      model,
      nextCursor: more ? await this.#cursors.sign(page.queryHash, page.offset + options.k) : null,
    };
    const json = JSON.stringify(payload);
    return { json, etag: await etagOf(json), embed, search };
  }

  /** The query's vector (none for an id query, which searches with the stored one) and the model that made it. */
  async #queryVector(prepared: Prepared, defer: Defer): Promise<{ vector?: Float32Array; model: string | null }> {
    const { embeddings, index } = this.deps;
    const { input } = prepared;
    const knownModel = async () => (await embeddings.knownModel().catch(() => undefined))?.id ?? null;
    switch (input.type) {
      case 'text':
        return embeddings.text(input.text, defer);
      case 'image':
        return embeddings.image(input.bytes, prepared.hash, defer);
      case 'image-hash':
        return this.#knownImage(input.sha256, defer);
      case 'vector': {
        const dimensions = await index.dimensions();
        if (input.vector.length !== dimensions)
          throw new ApiError(400, 'dimension_mismatch', `vector has ${input.vector.length} dimensions; the index has ${dimensions}`);
        return { vector: prepared.vector!, model: await knownModel() };
      }
      case 'id':
        return { model: await knownModel() };
      case 'parts': {
        const parts = prepared.parts!;
        const ids = parts.filter((p) => p.kind === 'id').map((p) => p.ref);
        const stored = new Map(ids.length > 0 ? (await index.getByIds(ids)).map((v) => [v.id, v.values] as const) : []);
        const missing = ids.find((id) => !stored.has(id));
        if (missing !== undefined) throw itemNotFound(missing);
        const embedded = await Promise.all(
          parts.map(async (p) => {
            if (p.kind === 'id') return { vector: stored.get(p.ref)!, model: undefined };
            if (p.kind === 'text') return embeddings.text(p.ref, defer);
            return p.bytes ? embeddings.image(p.bytes, p.ref, defer) : this.#knownImage(p.ref, defer);
          }),
        );
        const vector = combine(parts.map((p, i) => ({ weight: p.weight, vector: embedded[i]!.vector })));
        return { vector, model: embedded.find((e) => e.model !== undefined)?.model ?? (await knownModel()) };
      }
    }
  }

  async #knownImage(sha256: string, defer: Defer): Promise<{ vector: Float32Array; model: string }> {
    const known = await this.deps.embeddings.imageByHash(sha256, defer);
    if (known) return known;
    throw new ApiError(
      404,
      'image_not_found',
      `no embedding is known for image sha256:${sha256}: POST the image to /v1/search once (or store it with POST /v1/items), then search by its hash`,
    );
  }

  /** Items like a stored one, leaving the item itself out (one more is asked for, within the cap). */
  async #moreLikeThis(id: string, query: VectorizeQueryOptions): Promise<{ matches: VectorizeMatch[]; windowFull: boolean }> {
    const { index } = this.deps;
    let matches: VectorizeMatch[];
    try {
      matches = (await index.queryById(id, query)).matches;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) throw itemNotFound(id);
      throw error;
    }
    // Upstream's answer for an unknown id is undocumented: an empty result is checked.
    if (matches.length === 0 && (await index.getByIds([id])).length === 0) throw itemNotFound(id);
    return { matches: matches.filter((m) => m.id !== id), windowFull: matches.length >= query.topK! };
  }
}

/**
 * A computed answer as one request saw it: the parts of the computation that fell within its wait (from `waitFrom`
 * to now; all of them for the request that ran it), so no part exceeds the request's total.
 */
function freshAnswer(computed: Computed, started: number, waitFrom: number, shared: boolean): SearchOutcome {
  const now = clock();
  const totalMs = elapsedMs(started);
  // Rounded down, so that the parts never add up to more than the total (which is rounded to the nearest).
  const within = ({ from, to }: Span) => Math.min(totalMs, Math.floor(Math.max(0, Math.min(to, now) - Math.max(from, waitFrom)) * 100) / 100);
  return {
    json: computed.json,
    etag: computed.etag,
    cache: 'miss',
    ageSeconds: 0,
    timings: { embedMs: within(computed.embed), searchMs: within(computed.search), totalMs, shared },
  };
}

/** Milliseconds since the epoch at performance.now()'s resolution; the time origin may differ between requests. */
const clock = () => performance.timeOrigin + performance.now();

const itemNotFound = (id: string) => new ApiError(404, 'item_not_found', `no item with id ${JSON.stringify(id)}`);

/** How many results paging can reach: Vectorize's topK cap for these options (less the item itself for id queries). */
function reachable(config: Config, input: SearchInput, options: SearchOptions): number {
  return topKCap(config, options.metadata, options.dedupe !== undefined) - (input.type === 'id' ? 1 : 0);
}

function pagingLimit(reach: number, options: SearchOptions): ApiError {
  const why = options.metadata === 'all' ? ' with metadata=all' : options.dedupe !== undefined ? ' with dedupe' : '';
  return new ApiError(
    400,
    'paging_limit',
    `paging stops after the first ${reach} results${why} (Vectorize's topK cap): narrow the search with a filter, a namespace or minScore instead`,
  );
}

interface Prepared {
  input: SearchInput;
  /** SHA-256 of the image or vector bytes ('' for the others). */
  hash: string;
  /** The query and every option, canonical: the cache key without the page, `after` and the index version. */
  descriptor: Record<string, unknown>;
  echo: Record<string, unknown>;
  /** A vector input as float32 (vector inputs only). */
  vector?: Float32Array;
  /** The parts of a combined query, canonical. */
  parts?: CanonicalPart[];
}

async function prepare(input: SearchInput, options: SearchOptions): Promise<Prepared> {
  const ranking = {
    ...(options.minScore !== undefined ? { minScore: options.minScore } : {}),
    ...(options.within !== undefined ? { within: options.within } : {}),
    ...(options.cutoff !== undefined ? { cutoff: options.cutoff } : {}),
    ...(options.dedupe !== undefined ? { dedupe: options.dedupe } : {}),
  };
  const shared = {
    k: options.k,
    ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    ...(options.filter !== undefined ? { filter: options.filter } : {}),
    metadata: options.metadata,
    ...ranking,
  };
  // The options of the first API version keep their keys (and so their cached results); the newer ones join when given.
  const keyed = { k: options.k, namespace: options.namespace ?? null, filter: options.filter ?? null, metadata: options.metadata, ...ranking };
  switch (input.type) {
    case 'text':
      return { input, hash: '', descriptor: { type: 'text', text: input.text, ...keyed }, echo: { type: 'text', text: input.text, ...shared } };
    case 'image':
    case 'image-hash': {
      // Bytes and a hash reference to the same image are one query.
      const hash = input.type === 'image' ? await sha256Hex(input.bytes) : input.sha256;
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
    case 'parts': {
      const parts = await canonicalParts(input.parts);
      return {
        input,
        hash: '',
        parts,
        descriptor: { type: 'parts', parts: parts.map((p) => [p.kind, p.ref, p.weight]), ...keyed },
        echo: { type: 'parts', parts: parts.map(echoPart), ...shared },
      };
    }
  }
}
