// The worker's bindings and settings. Vars arrive as strings (or numbers from
// wrangler.toml); each is parsed once per isolate with a bound.
import type { AnalyticsEngineDataset, Fetcher, KVNamespace, Queue, R2Bucket, RateLimit, Vectorize } from '@cloudflare/workers-types/index.ts';
import { z } from 'zod';

export interface Env {
  /** Production: the Vectorize index. Absent: VECTORIZE_URL (the local index's REST API) is used. */
  VECTORIZE?: Vectorize;
  /** During a model migration: the next index (INDEX_NEXT), filled for the next model; absent: VECTORIZE_NEXT_URL, if set. */
  VECTORIZE_NEXT?: Vectorize;
  /** Query embeddings, the index version and the last model seen. Optional (then per isolate only). */
  SEARCH_KV?: KVNamespace;
  /** Workers Rate Limiting binding for public routes, keyed by client IP. Optional. */
  RATE_LIMITER?: RateLimit;
  /** One data point per request (worker/observability/analytics.ts). Optional: unbound, the worker writes none. */
  ANALYTICS?: AnalyticsEngineDataset;
  /** Service binding to the embedder; takes precedence over EMBEDDER_URLS. */
  EMBEDDER?: Fetcher;
  /** During a model migration: a service binding to the next model's embedder (with or instead of EMBEDDER_NEXT_URLS). */
  EMBEDDER_NEXT?: Fetcher;
  /** The backfill queue: POST /v1/backfill sends to it, this worker consumes it. Without it that route answers 500 misconfigured. */
  BACKFILL_QUEUE?: Queue;
  /** Producer binding to the backfill queue's dead-letter queue: permanently bad items go there with the reason. */
  BACKFILL_DLQ?: Queue;
  /** Item thumbnails (R2), served at GET /v1/items/{id}/thumbnail. Optional: without it, upserts with a thumbnail answer 500 misconfigured. */
  THUMBNAILS?: R2Bucket;
  [name: string]: unknown;
}

const MiB = 1024 * 1024;
const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const seconds = (fallback: number, max: number) => z.coerce.number().min(0).max(max).default(fallback);
const flag = z
  .union([z.boolean(), z.enum(['0', '1', 'true', 'false'])])
  .default(false)
  .transform((v) => v === true || v === '1' || v === 'true');
const list = z
  .string()
  .default('')
  .transform((s) => s.split(/[\s,]+/).filter(Boolean));
/** An embedder's model id (its EMBEDDER_MODELS name, or its model directory's name). */
const modelName = z.string().regex(/^[^\s\p{Cc}]{1,256}$/u, 'must be 1 to 256 characters without spaces or control characters');
/** Vectorize's index names: lowercase letters, digits and dashes, at most 64 (the local index's rule too). */
const indexName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be 1 to 64 lowercase letters, digits and dashes');

/** Every setting; parseConfig reads only these names. Descriptions are the comments above each (docs/configuration.md). */
export const schema = z.object({
  /** Embedder base URLs, comma-separated, used in rotation; a failed call is retried once on another. The EMBEDDER service binding takes precedence. */
  EMBEDDER_URLS: list.pipe(z.array(z.url({ protocol: /^https?$/ })).max(16)),
  /** Bearer token sent to the embedders (their EMBEDDER_TOKEN). @secret */
  EMBEDDER_TOKEN: z.string().optional(),
  /** Time one embedder call may take before it counts as failed. */
  EMBEDDER_TIMEOUT_MS: int(5000, 50, 120_000),
  /**
   * The model to ask the embedders for, by its id in their GET /v1/models (an embedder may serve several:
   * its EMBEDDER_MODELS); sent as `model` on every embedding call. Unset: the embedder's default, the first it lists.
   */
  EMBEDDER_MODEL: modelName.optional(),
  /** Consecutive failures that open an upstream's circuit, and how long it stays open. */
  BREAKER_FAILURES: int(3, 1, 100),
  /** After this long an open circuit lets one trial request through, whatever the upstream's /readyz says. */
  BREAKER_COOLDOWN_MS: int(10_000, 100, 600_000),
  /** The worker's own log lines at this level and above; request lines are info, 5xx answers warn (worker/observability/). */
  LOG_LEVEL: z.enum(['info', 'warn', 'error', 'off']).default('info'),
  /** Without the VECTORIZE binding: a Vectorize v2 REST index URL (…/client/v4/accounts/<account>/vectorize/v2/indexes/<name>), e.g. the local index. */
  VECTORIZE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Bearer token for VECTORIZE_URL and VECTORIZE_NEXT_URL (on Cloudflare: an API token with Vectorize edit rights). @secret */
  VECTORIZE_TOKEN: z.string().optional(),
  /**
   * A model migration (worker/README.md#changing-the-model): the next index (VECTORIZE_NEXT_URL, or
   * the VECTORIZE_NEXT binding) and the next model's embedders. Writes go to both indexes; searches
   * use the one the KV record `meta:active-index` names (the primary one until POST /v1/admin/index:promote).
   */
  VECTORIZE_NEXT_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** During a model migration: the next model's embedder base URLs (with VECTORIZE_NEXT_URL or the VECTORIZE_NEXT binding). */
  EMBEDDER_NEXT_URLS: list.pipe(z.array(z.url({ protocol: /^https?$/ })).max(16)),
  /**
   * During a model migration: the model the next index's embedders are asked for, as EMBEDDER_MODEL is for the primary's.
   * With it, EMBEDDER_NEXT_URLS may be left unset: the next model is then asked of the primary's embedders (one embedder serving both models).
   */
  EMBEDDER_NEXT_MODEL: modelName.optional(),
  /**
   * The indexes' names, which the promotion record names. Default: the last segment of
   * VECTORIZE_URL / VECTORIZE_NEXT_URL; with the VECTORIZE binding, "crossmodal" (wrangler.toml's
   * index_name); with the VECTORIZE_NEXT binding, INDEX_NEXT_NAME is required.
   */
  INDEX_NAME: indexName.optional(),
  /** During a model migration: the next index's name; required with the VECTORIZE_NEXT binding. */
  INDEX_NEXT_NAME: indexName.optional(),
  /** Time one index call may take. */
  VECTORIZE_TIMEOUT_MS: int(10_000, 50, 120_000),
  /** Bearer token of the admin routes (writes, deletes, /v1/backfill, /v1/admin/*); unset, they answer 403. @secret */
  ADMIN_TOKEN: z.string().optional(),
  /** Signs search page cursors (worker/search/page-cursor.ts); unset: a key derived from ADMIN_TOKEN. @secret */
  CURSOR_SECRET: z.string().min(16).optional(),
  /** "*" or a comma-separated list of allowed origins. */
  CORS_ORIGINS: list.default(['*']),
  /** A cached search result younger than this is a hit… */
  CACHE_TTL_SECONDS: seconds(60, 86_400),
  /** …for this long after that it is served stale while a background request refreshes it… */
  CACHE_SWR_SECONDS: seconds(300, 86_400),
  /** …and for this long after that only while the embedder or the index is down. */
  CACHE_STALE_IF_ERROR_SECONDS: seconds(86_400, 7 * 86_400),
  /** Search results also kept in isolate memory, least recently used out (0: Cache API only). */
  MEMORY_CACHE_ENTRIES: int(1000, 0, 100_000),
  /** How long query embeddings (texts, and images by their SHA-256) are kept in SEARCH_KV. */
  EMBEDDING_KV_TTL_SECONDS: int(30 * 86_400, 60, 365 * 86_400),
  /** How long an isolate trusts the index version it read from KV. */
  INDEX_VERSION_TTL_MS: int(5000, 0, 600_000),
  /** The RATE_LIMITER binding's period (they must match): the Retry-After of a 429. */
  RATE_LIMIT_PERIOD_SECONDS: int(60, 1, 3600),
  /**
   * Whether CF-Connecting-IP names the client: on Cloudflare it does (the edge
   * sets it); locally a client can send its own, so the local runner sets this
   * false and every local client shares one rate-limit bucket.
   */
  TRUST_CF_CONNECTING_IP: z
    .union([z.boolean(), z.enum(['0', '1', 'true', 'false'])])
    .default(true)
    .transform((v) => v === true || v === '1' || v === 'true'),
  /** The most results one search may ask for (50 with all metadata or values: Vectorize's own limit). */
  MAX_TOP_K: int(100, 1, 100),
  /** The longest query text, in characters after whitespace is collapsed. */
  MAX_QUERY_CHARS: int(1000, 1, 10_000),
  /** JSON bodies of searches (a base64 image is 4/3 of its bytes). */
  MAX_JSON_BYTES: int(6 * MiB, 1024, 64 * MiB),
  /** The largest image a search may send (as the body, in base64 or by URL). */
  MAX_IMAGE_BYTES: int(4 * MiB, 1024, 32 * MiB),
  /** The largest body of an admin request. */
  MAX_ADMIN_BODY_BYTES: int(32 * MiB, 1024, 100 * MiB),
  /** Items per POST /v1/items. */
  MAX_BATCH_ITEMS: int(100, 1, 1000),
  /** Cache-Control max-age of GET /v1/items/{id}/thumbnail: how long a browser may show a replaced thumbnail before it revalidates (ETag). */
  THUMBNAIL_MAX_AGE_SECONDS: int(86_400, 0, 365 * 86_400),
  /** Time to fetch an image URL, its redirects (at most 3) included. */
  IMAGE_URL_TIMEOUT_MS: int(5000, 100, 60_000),
  /** Local development only: let image URLs be http:// and point at private addresses. */
  ALLOW_PRIVATE_IMAGE_URLS: flag,
  /** Descriptors per POST /v1/backfill (sent to the queue 100 at a time). */
  MAX_ENQUEUE_ITEMS: int(1000, 1, 10_000),
  /** Images per embedder request from the queue consumer (fetched while the previous request runs). */
  QUEUE_EMBED_BATCH: int(16, 1, 100),
  /** A message that failed for a passing reason is retried after base × 2^(attempts − 1) seconds (with jitter), at most the max. */
  QUEUE_RETRY_BASE_SECONDS: int(5, 0, 3600),
  /** The longest wait before a retry. */
  QUEUE_RETRY_MAX_SECONDS: int(300, 0, 86_400),
  /**
   * The metadata properties that have a metadata index, as `name:type` (string, number or boolean;
   * default string), comma-separated: GET /v1/info lists them and the search page offers them as
   * filters. The Vectorize binding cannot list metadata indexes, so the deployment says which it made.
   */
  FILTERABLE_FIELDS: list.pipe(
    z
      .array(
        z
          .string()
          .regex(/^[^$.:"][^.:"]{0,511}(:(string|number|boolean))?$/, 'must be name or name:type (string, number or boolean)')
          .transform((field) => {
            const [name, type = 'string'] = field.split(':') as [string, ('string' | 'number' | 'boolean')?];
            return { name, type };
          }),
      )
      .max(10),
  ),
});

export type Config = z.output<typeof schema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseConfig(env: Env): Config {
  const vars: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') vars[key] = typeof value === 'number' ? String(value) : value;
  }
  const parsed = schema.safeParse(vars);
  if (!parsed.success)
    throw new ConfigError(`invalid worker settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
