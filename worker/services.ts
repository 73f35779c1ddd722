// Everything a request needs, built once per isolate from the bindings and
// settings (circuit breakers, coalescing and the remembered model and index
// version live as long as the isolate).
import type { Fetcher } from '@cloudflare/workers-types/index.ts';
import { ResultCache } from './cache/result-cache.ts';
import { IndexVersion } from './cache/index-version.ts';
import { ConfigError, parseConfig, type Config, type Env } from './config.ts';
import { EmbedderClient, urlUpstream, type Upstream } from './embedding/embedder-client.ts';
import type { ImageLimits } from './embedding/image-input.ts';
import { QueryEmbedder } from './embedding/query-embedder.ts';
import { itemSchemas, searchSchemas, type ItemSchemas, type SearchSchemas } from './schemas.ts';
import { SearchService } from './search/search-service.ts';
import { VectorizeRestAdapter } from './vectorize/rest-adapter.ts';
import { SearchIndex } from './vectorize/search-index.ts';

export interface Services {
  config: Config;
  client: EmbedderClient;
  embeddings: QueryEmbedder;
  index: SearchIndex;
  version: IndexVersion;
  results: ResultCache;
  search: SearchService;
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

function build(env: Env): Services {
  const config = parseConfig(env);
  const upstreams = [
    ...(env.EMBEDDER ? [bindingUpstream('EMBEDDER', env.EMBEDDER)] : []),
    ...config.EMBEDDER_URLS.map(urlUpstream),
  ];
  if (upstreams.length === 0) throw new ConfigError('no embedder: bind EMBEDDER (a service binding) or set EMBEDDER_URLS');
  const client = new EmbedderClient(upstreams, {
    token: config.EMBEDDER_TOKEN,
    timeoutMs: config.EMBEDDER_TIMEOUT_MS,
    breakerFailures: config.BREAKER_FAILURES,
    breakerCooldownMs: config.BREAKER_COOLDOWN_MS,
  });

  const binding =
    env.VECTORIZE ??
    (config.VECTORIZE_URL
      ? new VectorizeRestAdapter({ indexUrl: config.VECTORIZE_URL, token: config.VECTORIZE_TOKEN, timeoutMs: config.VECTORIZE_TIMEOUT_MS })
      : undefined);
  if (!binding) throw new ConfigError('no vector index: bind VECTORIZE or set VECTORIZE_URL to a Vectorize v2 REST index URL');
  const index = new SearchIndex(binding, env.SEARCH_KV);

  const embeddings = new QueryEmbedder(client, env.SEARCH_KV, config.EMBEDDING_KV_TTL_SECONDS, config.EMBEDDER_TIMEOUT_MS + 1000);
  const version = new IndexVersion(env.SEARCH_KV, config.INDEX_VERSION_TTL_MS);
  const results = new ResultCache({
    ttlSeconds: config.CACHE_TTL_SECONDS,
    swrSeconds: config.CACHE_SWR_SECONDS,
    staleIfErrorSeconds: config.CACHE_STALE_IF_ERROR_SECONDS,
    memoryEntries: config.MEMORY_CACHE_ENTRIES,
  });
  return {
    config,
    client,
    embeddings,
    index,
    version,
    results,
    search: new SearchService({ config, embeddings, index, version, results }),
    schemas: { search: searchSchemas(config), items: itemSchemas(config) },
    imageLimits: { maxBytes: config.MAX_IMAGE_BYTES, timeoutMs: config.IMAGE_URL_TIMEOUT_MS, allowPrivate: config.ALLOW_PRIVATE_IMAGE_URLS },
  };
}
