// Search results, cached in two layers: a small LRU in the isolate's memory
// (the hottest queries skip even the Cache API) in front of the Cache API
// (shared by the isolates of a location). Entries live for TTL plus the
// longer of the stale windows; each remembers when it was computed, so a
// lookup can say whether it is fresh (a hit), inside stale-while-revalidate
// (served stale and refreshed in the background) or only good as a fallback
// while a dependency is down (stale-if-error).
import { LruMap } from '../../common/lru.ts';
import { canonicalJson, sha256Hex } from '../lib/hash.ts';

/** What a search answers, minus the per-request fields (cache state, timings). */
export interface SearchPayload {
  query: Record<string, unknown>;
  results: { id: string; score: number; metadata?: Record<string, unknown> }[];
  model: string | null;
  /** The signed cursor of the next page (worker/search/page-cursor.ts), or null. */
  nextCursor: string | null;
}

export interface CachedResult {
  /** The SearchPayload as JSON, ready to send. */
  json: string;
  etag: string;
  ageSeconds: number;
  freshness: 'fresh' | 'revalidate' | 'error-only';
}

export interface CacheWindows {
  ttlSeconds: number;
  swrSeconds: number;
  staleIfErrorSeconds: number;
  /** Entries kept in isolate memory (0: none). */
  memoryEntries: number;
}

interface Entry {
  json: string;
  etag: string;
  storedAt: number;
}

/** The part of the Cache API this needs (caches.default in Workers). */
interface EdgeCache {
  match(key: string): Promise<Response | undefined>;
  put(key: string, response: Response): Promise<void>;
}

const edgeCache = (): EdgeCache | undefined => (globalThis as unknown as { caches?: { default?: EdgeCache } }).caches?.default;

const STORED_AT = 'x-search-stored-at';

export async function etagOf(json: string): Promise<string> {
  return `W/"${(await sha256Hex(json)).slice(0, 32)}"`;
}

/** Weak comparison of an If-None-Match header against an ETag. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === bare;
  });
}

export class ResultCache {
  readonly #memory: LruMap<string, Entry>;
  readonly #lifetimeSeconds: number;

  constructor(readonly windows: CacheWindows) {
    this.#memory = new LruMap(windows.memoryEntries);
    this.#lifetimeSeconds = windows.ttlSeconds + Math.max(windows.swrSeconds, windows.staleIfErrorSeconds);
  }

  get enabled(): boolean {
    return this.windows.ttlSeconds > 0;
  }

  /** A cache key URL for a canonical description of the search (including the index version). */
  async key(origin: string, descriptor: Record<string, unknown>): Promise<string> {
    return `${origin}/__search-cache/${await sha256Hex(canonicalJson(descriptor))}`;
  }

  async get(key: string): Promise<CachedResult | undefined> {
    if (!this.enabled) return undefined;
    let entry = this.#memory.get(key);
    if (entry && this.#age(entry) > this.#lifetimeSeconds) {
      this.#memory.delete(key);
      entry = undefined;
    }
    // A concurrent request for the same key may have stored its result while this one waited on the edge.
    entry ??= (await this.#fromEdge(key)) ?? this.#memory.get(key);
    if (!entry) return undefined;
    const ageSeconds = this.#age(entry);
    if (ageSeconds > this.#lifetimeSeconds) return undefined;
    const { ttlSeconds, swrSeconds } = this.windows;
    const freshness = ageSeconds < ttlSeconds ? 'fresh' : ageSeconds < ttlSeconds + swrSeconds ? 'revalidate' : 'error-only';
    return { json: entry.json, etag: entry.etag, ageSeconds, freshness };
  }

  async put(key: string, json: string, etag: string): Promise<void> {
    if (!this.enabled) return;
    const storedAt = Date.now();
    this.#memory.set(key, { json, etag, storedAt });
    const cache = edgeCache();
    if (!cache) return;
    const response = new Response(json, {
      headers: {
        'content-type': 'application/json',
        'cache-control': `public, max-age=${Math.ceil(this.#lifetimeSeconds)}`,
        etag,
        [STORED_AT]: String(storedAt),
      },
    });
    await cache.put(key, response).catch((error: unknown) => console.warn('result cache put failed', error));
  }

  #age(entry: Entry): number {
    return Math.max(0, (Date.now() - entry.storedAt) / 1000);
  }

  async #fromEdge(key: string): Promise<Entry | undefined> {
    const cache = edgeCache();
    const response = cache ? await cache.match(key).catch(() => undefined) : undefined;
    if (!response) return undefined;
    const storedAt = Number(response.headers.get(STORED_AT));
    const etag = response.headers.get('etag');
    if (!Number.isFinite(storedAt) || !etag) {
      await response.body?.cancel();
      return undefined;
    }
    const json = await response.text();
    const entry = { json, etag, storedAt };
    this.#memory.set(key, entry);
    return entry;
  }
}
