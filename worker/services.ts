// Everything a request needs, built once per isolate from the bindings and
// settings (circuit breakers, coalescing and the remembered models, index
// version and promotion record live as long as the isolate). The index, the
// embedders and the search service come per generation (generations.ts):
// a request asks `generations` which one is active.
import type { Fetcher, KVNamespace, Vectorize } from '@cloudflare/workers-types/index.ts';
import { ResultCache } from './cache/result-cache.ts';
import { IndexVersion } from './cache/index-version.ts';
import { ConfigError, parseConfig, type Config, type Env } from './config.ts';
import { EmbedderClient, urlUpstream, type Upstream } from './embedding/embedder-client.ts';
import type { ImageLimits } from './embedding/image-input.ts';
import { QueryEmbedder } from './embedding/query-embedder.ts';
import { Generations, type Generation, type Slot } from './generations.ts';
import { itemSchemas, searchSchemas, type ItemSchemas, type SearchSchemas } from './schemas.ts';
import { SearchService } from './search/search-service.ts';
import { VectorizeRestAdapter } from './vectorize/rest-adapter.ts';
import { SearchIndex } from './vectorize/search-index.ts';

export interface Services {
  config: Config;
  /** The primary index and, during a migration, the next one; which one searches use. */
  generations: Generations;
  version: IndexVersion;
  results: ResultCache;
  schemas: { search: SearchSchemas; items: ItemSchemas };
  imageLimits: ImageLimits;
}

const built = new WeakMap<Env, Services>();

export function servicesFor(env: Env): Services {
  let services = built.get(env);
  if (!services) {
    services = build(env);
    built.set(env, services);
  }
  return services;
}

/** A service binding as an upstream: the host part of the URL is ignored by the binding. */
const bindingUpstream = (name: string, fetcher: Fetcher): Upstream => ({
  name: `service:${name}`,
  fetch: (path, init) => fetcher.fetch(`https://embedder${path}`, init as never) as unknown as Promise<Response>,
});

/** The last path segment of a Vectorize v2 REST index URL: the index's name. */
const nameInUrl = (url: string | undefined) => (url ? /\/indexes\/([^/?#]+)\/*$/.exec(url)?.[1] : undefined);

interface SlotSettings {
  slot: Slot;
  name: string;
  binding: Vectorize | undefined;
  restUrl: string | undefined;
  upstreams: Upstream[];
  /** The model its embedders are asked for (EMBEDDER_MODEL / EMBEDDER_NEXT_MODEL); unset: their default. */
  model: string | undefined;
}

function slotSettings(env: Env, config: Config): { primary: SlotSettings; next: SlotSettings | undefined } {
  const primary: SlotSettings = {
    slot: 'primary',
    name: config.INDEX_NAME ?? (env.VECTORIZE ? 'crossmodal' : (nameInUrl(config.VECTORIZE_URL) ?? 'crossmodal')),
    binding: env.VECTORIZE,
    restUrl: config.VECTORIZE_URL,
    upstreams: [...(env.EMBEDDER ? [bindingUpstream('EMBEDDER', env.EMBEDDER)] : []), ...config.EMBEDDER_URLS.map(urlUpstream)],
    model: config.EMBEDDER_MODEL,
  };
  if (primary.upstreams.length === 0) throw new ConfigError('no embedder: bind EMBEDDER (a service binding) or set EMBEDDER_URLS');
  if (!primary.binding && !primary.restUrl)
    throw new ConfigError('no vector index: bind VECTORIZE or set VECTORIZE_URL to a Vectorize v2 REST index URL');

  const nextIndex = env.VECTORIZE_NEXT !== undefined || config.VECTORIZE_NEXT_URL !== undefined;
  const ownUpstreams = [...(env.EMBEDDER_NEXT ? [bindingUpstream('EMBEDDER_NEXT', env.EMBEDDER_NEXT)] : []), ...config.EMBEDDER_NEXT_URLS.map(urlUpstream)];
  if (!nextIndex && ownUpstreams.length === 0 && config.EMBEDDER_NEXT_MODEL === undefined) return { primary, next: undefined };
  if (!nextIndex && ownUpstreams.length === 0)
    throw new ConfigError('EMBEDDER_NEXT_MODEL is set but there is no next index: bind VECTORIZE_NEXT or set VECTORIZE_NEXT_URL (worker/README.md#changing-the-model)');
  // Named without embedders of its own, the next model is asked of the primary's (one embedder serving both models).
  const nextUpstreams = ownUpstreams.length === 0 && config.EMBEDDER_NEXT_MODEL !== undefined ? primary.upstreams : ownUpstreams;
  if (!nextIndex)
    throw new ConfigError('EMBEDDER_NEXT_URLS is set but there is no next index: bind VECTORIZE_NEXT or set VECTORIZE_NEXT_URL (worker/README.md#changing-the-model)');
  if (nextUpstreams.length === 0)
    throw new ConfigError(
      'a next index is configured but no embedder for it: set EMBEDDER_NEXT_URLS, bind EMBEDDER_NEXT, or name the next model of the same embedders in EMBEDDER_NEXT_MODEL (worker/README.md#changing-the-model)',
    );
  const nextName = config.INDEX_NEXT_NAME ?? (env.VECTORIZE_NEXT ? undefined : nameInUrl(config.VECTORIZE_NEXT_URL));
  if (!nextName) throw new ConfigError('the VECTORIZE_NEXT binding needs INDEX_NEXT_NAME, its index name (the promotion record names it)');
  if (nextName === primary.name) throw new ConfigError(`the next index must have another name than the primary one (both are ${nextName})`);
  return {
    primary,
    next: { slot: 'next', name: nextName, binding: env.VECTORIZE_NEXT, restUrl: config.VECTORIZE_NEXT_URL, upstreams: nextUpstreams, model: config.EMBEDDER_NEXT_MODEL },
  };
}

function build(env: Env): Services {
  const config = parseConfig(env);
  const settings = slotSettings(env, config);
  const kv: KVNamespace | undefined = env.SEARCH_KV;
  const version = new IndexVersion(kv, config.INDEX_VERSION_TTL_MS);
  const results = new ResultCache({
    ttlSeconds: config.CACHE_TTL_SECONDS,
    swrSeconds: config.CACHE_SWR_SECONDS,
    staleIfErrorSeconds: config.CACHE_STALE_IF_ERROR_SECONDS,
    memoryEntries: config.MEMORY_CACHE_ENTRIES,
  });

  const generation = ({ slot, name, binding, restUrl, upstreams, model }: SlotSettings): Generation => {
    const client = new EmbedderClient(upstreams, {
      token: config.EMBEDDER_TOKEN,
      model,
      timeoutMs: config.EMBEDDER_TIMEOUT_MS,
      breakerFailures: config.BREAKER_FAILURES,
      breakerCooldownMs: config.BREAKER_COOLDOWN_MS,
    });
    const rest = restUrl ? new VectorizeRestAdapter({ indexUrl: restUrl, token: config.VECTORIZE_TOKEN, timeoutMs: config.VECTORIZE_TIMEOUT_MS }) : undefined;
    // With a binding, the REST URL (if any) serves only listing, which the binding lacks.
    const index = new SearchIndex((binding ?? rest)!, kv, rest);
    // The model is remembered per index: each generation's embedders serve their own.
    const embeddings = new QueryEmbedder(client, kv, config.EMBEDDING_KV_TTL_SECONDS, config.EMBEDDER_TIMEOUT_MS + 1000, `meta:model:${name}`);
    // Its results are cached under keys that name its index.
    const search = new SearchService({ config, embeddings, index, version: version.scoped(name), results });
    return { name, slot, index, client, embeddings, search };
  };

  return {
    config,
    generations: new Generations(generation(settings.primary), settings.next && generation(settings.next), version, kv, config.INDEX_VERSION_TTL_MS),
    version,
    results,
    schemas: { search: searchSchemas(config), items: itemSchemas(config) },
    imageLimits: { maxBytes: config.MAX_IMAGE_BYTES, timeoutMs: config.IMAGE_URL_TIMEOUT_MS, allowPrivate: config.ALLOW_PRIVATE_IMAGE_URLS },
  };
}
