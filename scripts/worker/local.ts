// Runs the worker locally in workerd (Miniflare), with a simulated KV
// namespace, Cache API, rate limiter, backfill queue (producer and
// consumer, with its dead-letter queue) and R2 bucket of thumbnails,
// against the local embedder and the local Vectorize-compatible index.
// For `npm start`, tests and benchmarks:
//
//   const worker = await startLocalWorker({ embedderUrls: [embedder.url], vectorizeUrl });
//   await fetch(`${worker.url}/v1/search?q=cat`); ... await worker.close();
//
// Run directly (`tsx scripts/worker/local.ts`) it reads WORKER_PORT (8787),
// WORKER_PERSIST_DIR and every worker setting of worker/config.ts in the
// environment (EMBEDDER_URLS, VECTORIZE_URL, EMBEDDER_MODEL, ...; a model
// migration: worker/README.md#changing-the-model); creates the indexes that
// are missing, with a metadata index per FILTERABLE_FIELDS entry, and logs
// {"msg":"worker ready","url":...} once it serves.
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Miniflare, type MiniflareOptions, type WorkerOptions } from 'miniflare';
import { schema as workerSchema } from '../../worker/config.ts';
import { bundleWorker } from './bundle.ts';

/** wrangler.toml's compatibility date; the Miniflare in package.json supports it. */
export const COMPATIBILITY_DATE = '2026-07-30';
/** wrangler.toml's compatibility flags: AsyncLocalStorage carries the request id (worker/observability/). */
export const COMPATIBILITY_FLAGS = ['nodejs_als'];
export const DEFAULT_INDEX_URL = 'http://127.0.0.1:8791/client/v4/accounts/local/vectorize/v2/indexes/crossmodal';

/** wrangler.toml's queues: the backfill queue and its dead-letter queue. */
export const BACKFILL_QUEUE = 'crossmodal-backfill';
export const BACKFILL_DLQ = 'crossmodal-backfill-dlq';

/** wrangler.toml's [assets]: the search page, served before the worker except on the API's paths. */
export const PAGE_ASSETS = {
  directory: fileURLToPath(new URL('../../worker/page', import.meta.url)),
  routerConfig: { has_user_worker: true, static_routing: { user_worker: ['/v1/*', '/openapi.json', '/healthz'] } },
  assetConfig: { html_handling: 'auto-trailing-slash', not_found_handling: 'none' },
} as const;

/** The backfill queue's consumer (Miniflare's names; seconds), as wrangler.toml's [env.local] sets it. Miniflare runs one batch at a time. */
export interface QueueConsumerSettings {
  maxBatchSize: number;
  maxBatchTimeout: number;
  maxRetries: number;
  /** Delay of a retry the consumer does not time itself (a batch that threw). */
  retryDelay: number;
}
export const LOCAL_QUEUE_CONSUMER: QueueConsumerSettings = { maxBatchSize: 16, maxBatchTimeout: 1, maxRetries: 10, retryDelay: 5 };

export interface LocalWorkerOptions {
  /** Default 8787; 0 picks a free port. */
  port?: number;
  host?: string;
  embedderUrls?: string[];
  embedderToken?: string;
  /** The local index's REST URL: `<base>/client/v4/accounts/<any>/vectorize/v2/indexes/<name>`. */
  vectorizeUrl: string;
  vectorizeToken?: string;
  /** A model migration: the next index's REST URL and its own embedders (VECTORIZE_NEXT_URL, EMBEDDER_NEXT_URLS; none: the primary's, for EMBEDDER_NEXT_MODEL). */
  next?: { vectorizeUrl: string; embedderUrls: string[] };
  adminToken?: string;
  /** Further settings (see worker/config.ts), e.g. { CACHE_TTL_SECONDS: '5' }. */
  vars?: Record<string, string>;
  /** The simulated Workers rate limiter; false: none (nothing is limited). Default 600 per 60 s. */
  rateLimit?: { limit: number; period: 10 | 60 } | false;
  /** Keep KV, the cache and the thumbnails (R2) in this directory between runs (default: in memory). */
  persistDir?: string;
  /** Bind the THUMBNAILS R2 bucket (default true); false: a worker without it. */
  thumbnails?: boolean;
  /** A bundle to run instead of building worker/main.ts. */
  scriptPath?: string;
  /** Extra Miniflare options for the worker (service bindings, outboundService, ...). */
  miniflare?: Partial<MiniflareOptions>;
  /** The backfill queue's consumer settings, over LOCAL_QUEUE_CONSUMER. */
  queueConsumer?: Partial<QueueConsumerSettings>;
  /** More workers in the same instance, and so on the same queues (a dead-letter queue consumer, ...). */
  extraWorkers?: WorkerOptions[];
}

export interface LocalWorker {
  url: string;
  mf: Miniflare;
  close(): Promise<void>;
}

export async function startLocalWorker(options: LocalWorkerOptions): Promise<LocalWorker> {
  const scriptPath = options.scriptPath ?? (await bundleWorker());
  const vars: Record<string, string> = {
    VECTORIZE_URL: options.vectorizeUrl,
    ...(options.embedderUrls?.length ? { EMBEDDER_URLS: options.embedderUrls.join(',') } : {}),
    ...(options.embedderToken ? { EMBEDDER_TOKEN: options.embedderToken } : {}),
    ...(options.vectorizeToken ? { VECTORIZE_TOKEN: options.vectorizeToken } : {}),
    ...(options.next ? { VECTORIZE_NEXT_URL: options.next.vectorizeUrl } : {}),
    ...(options.next?.embedderUrls.length ? { EMBEDDER_NEXT_URLS: options.next.embedderUrls.join(',') } : {}),
    ...(options.adminToken ? { ADMIN_TOKEN: options.adminToken } : {}),
    // Miniflare passes on a client's own CF-Connecting-IP: one rate-limit bucket for every local client (worker/middleware/rate-limit.ts).
    TRUST_CF_CONNECTING_IP: 'false',
    ...options.vars,
  };
  const rateLimit = options.rateLimit ?? { limit: 600, period: 60 };
  const shared = {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 8787,
    ...(options.persistDir ? { kvPersist: `${options.persistDir}/kv`, cachePersist: `${options.persistDir}/cache`, r2Persist: `${options.persistDir}/r2` } : {}),
  };
  const worker = {
    name: 'crossmodal-search',
    modules: true,
    scriptPath,
    // Module names are paths relative to this root; the bundle lives in a temporary directory.
    modulesRoot: dirname(scriptPath),
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: COMPATIBILITY_FLAGS,
    bindings: vars,
    kvNamespaces: ['SEARCH_KV'],
    ...(options.thumbnails !== false ? { r2Buckets: ['THUMBNAILS'] } : {}),
    ...(rateLimit ? { ratelimits: { RATE_LIMITER: { namespace_id: '1001', simple: rateLimit } } } : {}),
    queueProducers: { BACKFILL_QUEUE: { queueName: BACKFILL_QUEUE }, BACKFILL_DLQ: { queueName: BACKFILL_DLQ } },
    queueConsumers: { [BACKFILL_QUEUE]: { ...LOCAL_QUEUE_CONSUMER, ...options.queueConsumer, deadLetterQueue: BACKFILL_DLQ } },
    assets: PAGE_ASSETS,
    ...options.miniflare,
  };
  const mf = new Miniflare(
    (options.extraWorkers?.length ? { ...shared, workers: [worker, ...options.extraWorkers] } : { ...shared, ...worker }) as MiniflareOptions,
  );
  const url = (await mf.ready).href.replace(/\/$/, '');
  return { url, mf, close: () => mf.dispose() };
}

export interface EnsureIndexOptions {
  /** The index's REST URL (…/vectorize/v2/indexes/<name>). */
  indexUrl: string;
  dimensions: number;
  metric?: 'cosine' | 'euclidean' | 'dot-product';
  token?: string;
  /** Metadata indexes to create along with the index (filters need them). */
  metadataIndexes?: { propertyName: string; indexType: 'string' | 'number' | 'boolean' }[];
}

/** Creates the index (and its metadata indexes) unless it exists; checks the dimensions if it does. */
export async function ensureIndex(options: EnsureIndexOptions): Promise<'created' | 'exists'> {
  const match = /^(.*\/vectorize\/v2\/indexes)\/([^/]+)\/?$/.exec(options.indexUrl);
  if (!match) throw new Error(`not a Vectorize v2 index URL: ${options.indexUrl}`);
  const [, base, name] = match as unknown as [string, string, string];
  const headers = { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) };
  const existing = await fetch(`${base}/${name}`, { headers });
  if (existing.ok) {
    const { result } = (await existing.json()) as { result: { config: { dimensions?: number } } };
    if (result.config.dimensions !== options.dimensions)
      throw new Error(`index ${name} has ${result.config.dimensions} dimensions; the model has ${options.dimensions}`);
    return 'exists';
  }
  if (existing.status !== 404) throw new Error(`GET ${base}/${name}: HTTP ${existing.status} ${await existing.text()}`);
  const created = await fetch(base, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name, config: { dimensions: options.dimensions, metric: options.metric ?? 'cosine' } }),
  });
  if (!created.ok) throw new Error(`creating index ${name}: HTTP ${created.status} ${await created.text()}`);
  for (const spec of options.metadataIndexes ?? []) {
    const response = await fetch(`${base}/${name}/metadata_index/create`, { method: 'POST', headers, body: JSON.stringify(spec) });
    if (!response.ok) throw new Error(`creating metadata index ${spec.propertyName}: HTTP ${response.status} ${await response.text()}`);
  }
  return 'created';
}

/** A model's dimensions, from the embedder's GET /v1/models (retried while it starts): the named one, else its first. */
export async function embedderDimensions(embedderUrl: string, token?: string, model?: string, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let served: { id: string; dim: number }[] | undefined;
    try {
      const response = await fetch(`${embedderUrl.replace(/\/+$/, '')}/v1/models`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      if (response.ok) served = ((await response.json()) as { data: { id: string; dim: number }[] }).data;
    } catch {
      // not up yet
    }
    if (served?.length) {
      const chosen = model === undefined ? served[0] : served.find((entry) => entry.id === model);
      if (!chosen) throw new Error(`embedder at ${embedderUrl} does not serve model "${model}" (it serves ${served.map((entry) => entry.id).join(', ')})`);
      return chosen.dim;
    }
    if (Date.now() > deadline) throw new Error(`embedder at ${embedderUrl} did not answer GET /v1/models`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The worker settings (worker/config.ts) present in this environment, passed on to the worker as they are. */
function workerSettingsFrom(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.keys(workerSchema.shape).flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]!]])));
}

async function main(): Promise<void> {
  const env = process.env;
  const embedderUrls = (env.EMBEDDER_URLS ?? 'http://127.0.0.1:8790').split(/[\s,]+/).filter(Boolean);
  const vectorizeUrl = env.VECTORIZE_URL ?? DEFAULT_INDEX_URL;
  const dimensions = await embedderDimensions(embedderUrls[0]!, env.EMBEDDER_TOKEN, env.EMBEDDER_MODEL);
  const token = env.VECTORIZE_TOKEN ? { token: env.VECTORIZE_TOKEN } : {};
  // A new index gets a metadata index for each filterable field: Vectorize filters only on those.
  const metadataIndexes = workerSchema.shape.FILTERABLE_FIELDS.parse(env.FILTERABLE_FIELDS).map(({ name, type }) => ({ propertyName: name, indexType: type }));
  await ensureIndex({ indexUrl: vectorizeUrl, dimensions, metadataIndexes, ...token });
  // A migration: the next index gets the next model's dimensions, from its own embedders or else the primary's.
  const nextEmbedderUrls = (env.EMBEDDER_NEXT_URLS ?? '').split(/[\s,]+/).filter(Boolean);
  const nextVectorizeUrl = env.VECTORIZE_NEXT_URL;
  if (Boolean(nextVectorizeUrl) !== (nextEmbedderUrls.length > 0 || Boolean(env.EMBEDDER_NEXT_MODEL)))
    throw new Error('a migration needs VECTORIZE_NEXT_URL and the next model: EMBEDDER_NEXT_URLS, EMBEDDER_NEXT_MODEL or both');
  const next = nextVectorizeUrl ? { vectorizeUrl: nextVectorizeUrl, embedderUrls: nextEmbedderUrls } : undefined;
  if (next) {
    const nextDimensions = await embedderDimensions((nextEmbedderUrls[0] ?? embedderUrls[0])!, env.EMBEDDER_TOKEN, env.EMBEDDER_NEXT_MODEL);
    await ensureIndex({ indexUrl: next.vectorizeUrl, dimensions: nextDimensions, metadataIndexes, ...token });
  }
  const worker = await startLocalWorker({
    port: Number(env.WORKER_PORT ?? 8787),
    embedderUrls,
    vectorizeUrl,
    ...(next ? { next } : {}),
    adminToken: env.ADMIN_TOKEN ?? 'dev-admin-token',
    ...(env.EMBEDDER_TOKEN ? { embedderToken: env.EMBEDDER_TOKEN } : {}),
    ...(env.VECTORIZE_TOKEN ? { vectorizeToken: env.VECTORIZE_TOKEN } : {}),
    ...(env.WORKER_PERSIST_DIR ? { persistDir: env.WORKER_PERSIST_DIR } : {}),
    vars: workerSettingsFrom(env),
  });
  console.log(JSON.stringify({ level: 30, time: Date.now(), msg: 'worker ready', url: worker.url }));
  const stop = () => void worker.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
