// Request schemas: every parameter has a type and a bound. Bounds follow
// Vectorize's limits (shared/docs/vectorize.md §2, §4) and the settings.
// With the response schemas at the end they are also the OpenAPI document
// (routes/*.ts, openapi.ts): `.meta()` carries the descriptions and the
// names of its components.
import { z } from 'zod';
import { idSchema } from '../common/ids.ts';
import type { Config } from './config.ts';
import { canonicalText } from './lib/hash.ts';
import { MAX_THUMBNAIL_BYTES, MAX_THUMBNAIL_CHARS } from './thumbnails/format.ts';
import { MUTATION_ID } from './vectorize/mutation-log.ts';

const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;

/** Vectorize: top K ≤ 100, ≤ 50 when metadata or values come back in full (`dedupe` needs the values). */
export const topKCap = (config: Config, metadata: MetadataLevel, values = false) => Math.min(config.MAX_TOP_K, metadata === 'all' || values ? 50 : 100);
/** Parts of a combined query. */
export const MAX_QUERY_PARTS = 8;
const MAX_PART_WEIGHT = 100;
export const MAX_DIMENSIONS = 1536;
const FLOAT32_MAX = 3.4028234663852886e38;
const MAX_METADATA_BYTES = 10 * 1024;
const MAX_FILTER_BYTES = 2048;
export const MAX_ITEM_TEXT_CHARS = 4096;
export const MAX_DELETE_IDS = 1000;
/** Vectorize's list-vectors page, and room for the index's own cursor inside ours. */
export const MAX_LIST_COUNT = 1000;
const MAX_LIST_CURSOR_CHARS = 4096;

/** An item id: 1 to 64 bytes of UTF-8 and addressable text (common/ids.ts). */
export { idSchema };

export const namespaceSchema = z
  .string()
  .min(1)
  .max(64)
  .refine((s) => utf8Bytes(s) <= 64, 'must be at most 64 bytes (UTF-8)');

export const metadataLevel = z.enum(['none', 'indexed', 'all']);
export type MetadataLevel = z.infer<typeof metadataLevel>;

const float32 = z
  .number()
  .refine((v) => Math.abs(v) <= FLOAT32_MAX, 'must fit in float32');
export const vectorSchema = z.array(float32).min(1).max(MAX_DIMENSIONS);

// ---- metadata filters ----------------------------------------------------------

const scalar = z.union([z.string().max(MAX_FILTER_BYTES), z.number(), z.boolean()]);
const rangeValue = z.union([z.string().max(MAX_FILTER_BYTES), z.number()]);
const LOWER = ['$gt', '$gte'];
const UPPER = ['$lt', '$lte'];

const operators = z
  .strictObject({
    $eq: scalar.nullable().optional(),
    $ne: scalar.nullable().optional(),
    $lt: rangeValue.optional(),
    $lte: rangeValue.optional(),
    $gt: rangeValue.optional(),
    $gte: rangeValue.optional(),
    $in: z.array(scalar.nullable()).min(1).max(100).optional(),
    $nin: z.array(scalar.nullable()).min(1).max(100).optional(),
  })
  .refine((ops) => {
    const keys = Object.keys(ops);
    if (keys.length === 1) return true;
    // Only a range may combine operators: one lower bound and one upper bound.
    return keys.length === 2 && keys.some((k) => LOWER.includes(k)) && keys.some((k) => UPPER.includes(k));
  }, 'use one operator per property, or one lower ($gt/$gte) plus one upper ($lt/$lte) bound');

const filterKey = z
  .string()
  .min(1)
  .max(512)
  .refine((k) => !k.includes('"') && !k.startsWith('$'), 'filter keys must not contain \'"\' or start with \'$\'');

export const filterSchema = z
  .record(filterKey, z.union([scalar, z.null(), operators]))
  .refine((f) => Object.keys(f).length > 0, 'filter must not be empty')
  .refine((f) => utf8Bytes(JSON.stringify(f)) < MAX_FILTER_BYTES, `filter must be under ${MAX_FILTER_BYTES} bytes as compact JSON`)
  .meta({ id: 'Filter', description: 'Vectorize metadata filter, e.g. {"kind":"photo","year":{"$gte":2020}}.' });
export type Filter = z.infer<typeof filterSchema>;

/** The `filter` query parameter: the same filter, as JSON. */
const filterParam = z
  .string()
  .max(4 * MAX_FILTER_BYTES)
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
      return z.NEVER;
    }
  })
  .pipe(filterSchema)
  .meta({ description: 'Vectorize metadata filter as JSON, e.g. {"kind":"photo","year":{"$gte":2020}}.' });

// ---- metadata ----------------------------------------------------------------------

const metadataKey = z
  .string()
  .min(1)
  .max(512)
  .refine((k) => !k.includes('.') && !k.includes('"') && !k.startsWith('$'), 'metadata keys must not contain "." or \'"\' or start with "$"');
const metadataValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);
export const metadataSchema = z
  .record(metadataKey, z.union([metadataValue, z.record(metadataKey, metadataValue)]))
  .refine((m) => utf8Bytes(JSON.stringify(m)) <= MAX_METADATA_BYTES, `metadata must be at most ${MAX_METADATA_BYTES} bytes as JSON`);

// ---- searches ------------------------------------------------------------------------

const exactlyOne =
  <K extends string>(keys: readonly K[]) =>
  (value: Partial<Record<K, unknown>>, ctx: z.RefinementCtx) => {
    const given = keys.filter((k) => value[k] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({ code: 'custom', message: `give exactly one of ${keys.join(', ')}${given.length ? ` (got ${given.join(', ')})` : ''}` });
  };

function checkTopK(config: Config) {
  return (value: { k: number; metadata: MetadataLevel; dedupe?: number | undefined }, ctx: z.RefinementCtx) => {
    const cap = topKCap(config, value.metadata, value.dedupe !== undefined);
    const why = value.metadata === 'all' ? ' with metadata=all' : value.dedupe !== undefined ? ' with dedupe' : '';
    if (value.k > cap) ctx.addIssue({ code: 'custom', path: ['k'], message: `must be at most ${cap}${why}` });
  };
}

/** An image known by the SHA-256 of its bytes: `sha256:<64 hex digits>`. */
export const imageHashSchema = z
  .string()
  .regex(/^sha256:[0-9a-fA-F]{64}$/, 'must be sha256:<64 hex digits>')
  .transform((s) => s.slice('sha256:'.length).toLowerCase());
export const isImageHashReference = (image: string) => image.startsWith('sha256:');

/** The options that shape a ranking and page through it, in the query string (`coerce`) or a JSON body. */
function rankingOptions(coerce: boolean) {
  const number = coerce ? z.coerce.number() : z.number();
  return {
    cursor: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .meta({ description: 'The nextCursor of the previous page, with the same query and options: the page after it.' }),
    minScore: number
      .min(-1)
      .max(1)
      .optional()
      .meta({ description: 'Only results with at least this cosine similarity.' }),
    within: number
      .min(0)
      .max(2)
      .optional()
      .meta({ description: 'Only results scoring at least the best score minus this (an adaptive cutoff, e.g. 0.05).' }),
    cutoff: z.enum(['gap']).optional().meta({ description: 'gap: only the results before the largest drop between consecutive scores.' }),
    dedupe: number
      .gt(0)
      .max(1)
      .optional()
      .meta({ description: 'Drop a result whose cosine similarity to a better result is at least this (e.g. 0.95); k at most 50.' }),
    after: z
      .string()
      .regex(MUTATION_ID, 'must be a mutationId as the admin routes return it (a UUID)')
      .optional()
      .meta({ description: 'A write\'s mutationId: cached only once the index has applied it; until then answered uncached with X-Consistency: pending.' }),
  };
}

export function searchSchemas(config: Config) {
  const defaultK = Math.min(10, config.MAX_TOP_K);
  const kHelp = { description: `Results to return (at most ${topKCap(config, 'all')} with metadata=all).` };
  const k = z.coerce.number().int().min(1).max(100).default(defaultK).meta(kHelp);
  const text = z
    .string()
    .max(config.MAX_QUERY_CHARS * 4)
    .transform(canonicalText)
    .pipe(z.string().min(1, 'must not be blank').max(config.MAX_QUERY_CHARS))
    .meta({ description: `Query text (at most ${config.MAX_QUERY_CHARS} characters once whitespace is collapsed).` });
  const options = {
    k,
    namespace: namespaceSchema.optional().meta({ description: 'Search only this namespace.' }),
    metadata: metadataLevel.default('none').meta({ description: 'Metadata to return with each result.' }),
  };
  const image = z
    .string()
    .min(1)
    .max(Math.ceil((config.MAX_IMAGE_BYTES * 4) / 3) + 256)
    .meta({ description: 'An https URL, a base64 data URL, base64, or sha256:<hex> of an image whose embedding is known.' });

  /** GET /v1/search query string. */
  const get = z
    .strictObject({
      q: text.optional(),
      image: imageHashSchema.optional().meta({
        description: 'sha256:<hex> of an image POSTed before (or stored with POST /v1/items): search with its known embedding; 404 if none is known.',
      }),
      ...options,
      filter: filterParam.optional(),
      ...rankingOptions(true),
    })
    .superRefine(exactlyOne(['q', 'image'] as const))
    .superRefine(checkTopK(config));

  /** Options in the query string of a raw-image POST. */
  const imageParams = z.strictObject({ ...options, filter: filterParam.optional(), ...rankingOptions(true) }).superRefine(checkTopK(config));

  const part = z
    .strictObject({
      text: text.optional(),
      image: image.optional(),
      id: idSchema.optional().meta({ description: 'A stored item: its stored vector.' }),
      weight: z
        .number()
        .min(-MAX_PART_WEIGHT)
        .max(MAX_PART_WEIGHT)
        .default(1)
        .meta({ description: 'Negative to search away from this part; only the ratios between weights matter.' }),
    })
    .superRefine(exactlyOne(['text', 'image', 'id'] as const))
    .meta({ id: 'QueryPart', description: 'Exactly one of text, image or id, with a weight.' });

  /** POST /v1/search JSON body. */
  const post = z
    .strictObject({
      text: text.optional(),
      image: image.optional(),
      vector: vectorSchema.optional(),
      id: idSchema.optional().meta({ description: 'Find items like this stored one.' }),
      parts: z
        .array(part)
        .min(1)
        .max(MAX_QUERY_PARTS)
        .optional()
        .meta({ description: 'A combined query: the normalised weighted sum of the parts\' unit embeddings.' }),
      ...options,
      k: z.number().int().min(1).max(100).default(defaultK).meta(kHelp),
      filter: filterSchema.optional(),
      ...rankingOptions(false),
    })
    .superRefine(exactlyOne(['text', 'image', 'vector', 'id', 'parts'] as const))
    .superRefine(checkTopK(config))
    .meta({ id: 'SearchRequest', description: 'Exactly one of text, image, vector, id or parts, with options.' });

  return { get, post, imageParams };
}

// ---- items (admin) -------------------------------------------------------------------

export function itemSchemas(config: Config) {
  const item = z
    .strictObject({
      id: idSchema,
      namespace: namespaceSchema.optional(),
      metadata: metadataSchema.optional(),
      text: z.string().min(1).max(MAX_ITEM_TEXT_CHARS).optional(),
      image: z.string().min(1).max(Math.ceil((config.MAX_IMAGE_BYTES * 4) / 3) + 256).optional(),
      vector: vectorSchema.optional(),
      thumbnail: z
        .string()
        .min(1)
        .max(MAX_THUMBNAIL_CHARS)
        .optional()
        .meta({
          description:
            `A picture to show for the item: base64 (or a base64 data URL) of a WebP, JPEG or PNG of at most ${MAX_THUMBNAIL_BYTES} bytes, ` +
            'served at GET /v1/items/{id}/thumbnail. Needs the THUMBNAILS binding. An upsert without one removes a stored one.',
        }),
    })
    .superRefine(exactlyOne(['text', 'image', 'vector'] as const));

  const upsert = z
    .strictObject({
      items: z
        .array(item)
        .min(1)
        .max(config.MAX_BATCH_ITEMS)
        .refine((items) => new Set(items.map((i) => i.id)).size === items.length, 'item ids must be unique within a batch'),
    })
    .meta({ id: 'UpsertRequest', description: 'Items, each with exactly one of text, image (embedded) or vector.' });

  const remove = z.strictObject({ ids: z.array(idSchema).min(1).max(MAX_DELETE_IDS) }).meta({ id: 'DeleteRequest' });

  const get = z.strictObject({ values: z.enum(['true', 'false', '1', '0']).optional().meta({ description: 'Include the vector.' }) });

  /** The path of one item's routes. */
  const params = z.object({ id: idSchema });

  /** GET /v1/items (admin): the stored ids, page by page. */
  const list = z.strictObject({
    cursor: z.string().min(1).max(MAX_LIST_CURSOR_CHARS).optional().meta({ description: 'The nextCursor of the previous page, as it came.' }),
    namespace: namespaceSchema.optional().meta({ description: 'Only ids in this namespace (a page may then hold fewer than count, even none, and still have a nextCursor).' }),
    count: z.coerce.number().int().min(1).max(MAX_LIST_COUNT).default(100).meta({ description: `Ids per page, at most ${MAX_LIST_COUNT} (Vectorize's list-vectors page).` }),
  });

  return { upsert, remove, get, params, list };
}

// ---- backfill through the queue (admin) ----------------------------------------------

/** Longer URLs are refused: a message stays far under Queues' 128 KB with 10 KiB of metadata. */
export const MAX_IMAGE_URL_CHARS = 4096;

/** One item to backfill, as POST /v1/backfill takes it and as it travels in the queue: where the image is, never its bytes. */
export const backfillItemSchema = z
  .strictObject({
    id: idSchema,
    url: z
      .url({ protocol: /^https?$/ })
      .max(MAX_IMAGE_URL_CHARS)
      .meta({ description: 'The image, fetched by the worker: https and a public host (http and private hosts only with ALLOW_PRIVATE_IMAGE_URLS).' }),
    namespace: namespaceSchema.optional(),
    metadata: metadataSchema.optional(),
  })
  .meta({ id: 'BackfillItem' });
export type BackfillItem = z.output<typeof backfillItemSchema>;

export function backfillSchemas(config: Config) {
  const enqueue = z
    .strictObject({ items: z.array(backfillItemSchema).min(1).max(config.MAX_ENQUEUE_ITEMS) })
    .meta({ id: 'BackfillRequest', description: 'Images to embed and upsert in the background, by URL; an id given twice ends as its last descriptor.' });
  return { enqueue };
}

export type SearchSchemas = ReturnType<typeof searchSchemas>;
export type ItemSchemas = ReturnType<typeof itemSchemas>;

// ---- responses ---------------------------------------------------------------------
// Only documentation (responses are not checked at run time); the routes type
// what they send against them.

const jsonObject = z.record(z.string(), z.unknown());

export const searchResponseSchema = z
  .object({
    query: jsonObject.meta({ description: 'The search as understood: type, canonical text / sha256 / id / dimensions, and options.' }),
    results: z.array(z.object({ id: z.string(), score: z.number(), metadata: jsonObject.optional() })),
    model: z.string().nullable(),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor`, with the same query and options, for the next page; null when there is none.' }),
    cache: z.enum(['hit', 'miss', 'stale']).meta({ description: 'Whether the results came from the edge cache.' }),
    timings: z
      .object({
        embedMs: z.number().meta({ description: 'Of totalMs, the time the results spent being embedded (0 for a cache hit, a vector or an id query).' }),
        searchMs: z.number().meta({ description: 'Of totalMs, the time the results spent in the index query.' }),
        totalMs: z.number().meta({ description: "This request's time in the worker." }),
        shared: z.boolean().meta({
          description:
            'Whether this request joined an identical search already being computed; embedMs and searchMs then count only what happened while it waited.',
        }),
      })
      .meta({ description: 'Where the request\'s time went: embedMs + searchMs never exceed totalMs.' }),
  })
  .meta({ id: 'SearchResponse' });

export const itemSchema = z
  .object({ id: z.string(), namespace: z.string().optional(), metadata: jsonObject, values: z.array(z.number()).optional() })
  .meta({ id: 'Item' });

export const queuedSchema = z
  .object({ queued: z.number().int().meta({ description: 'Descriptors now in the backfill queue.' }) })
  .meta({ id: 'Queued' });

export const mutationSchema = z
  .object({
    mutationId: z.string().meta({ description: "The active index's mutation (the other index's when only that one was written)." }),
    count: z.number().int(),
    ids: z.array(z.string()).optional(),
    indexes: z
      .array(z.object({ index: z.string(), mutationId: z.string(), count: z.number().int() }))
      .optional()
      .meta({ description: 'During a model migration: the write to each index (worker/README.md#changing-the-model).' }),
  })
  .meta({ id: 'Mutation' });

const upstreamHealth = z.object({
  upstream: z.string(),
  ok: z.boolean(),
  latencyMs: z.number(),
  circuit: z.enum(['closed', 'open', 'half-open']),
  error: z.string().optional(),
});

export const healthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    worker: z.object({ ok: z.boolean() }),
    embedder: z.object({ ok: z.boolean(), upstreams: z.array(upstreamHealth) }),
    index: z.object({
      ok: z.boolean(),
      latencyMs: z.number(),
      vectorCount: z.number().optional(),
      dimensions: z.number().optional(),
      error: z.string().optional(),
    }),
  })
  .meta({ id: 'Health' });

// ---- listing, stats and model migrations (admin) -------------------------------------

export const itemListSchema = z
  .object({
    index: z.string().meta({ description: 'The index listed: the active one.' }),
    ids: z.array(z.string()),
    count: z.number().int(),
    totalCount: z.number().int().meta({ description: 'Vectors in the index, every namespace.' }),
    nextCursor: z.string().nullable().meta({ description: 'The next page; null on the last one.' }),
    cursorExpiresAt: z.string().nullable().meta({ description: "When the index stops accepting nextCursor (Vectorize's cursors expire)." }),
  })
  .meta({ id: 'ItemList' });

const modelInfo = z.object({ id: z.string(), dim: z.number().int() });

export const indexStatsSchema = z
  .object({
    index: z.string(),
    binding: z.enum(['primary', 'next']).meta({ description: 'Configured as VECTORIZE(_URL) (primary) or VECTORIZE_NEXT(_URL) (next).' }),
    model: modelInfo.nullable().meta({ description: "Its embedders' model, asked now; null when none answers." }),
    storedModel: z.string().nullable().meta({ description: 'The model of the vectors the worker wrote to it, as recorded; null before its first write.' }),
    vectorCount: z.number().int().optional(),
    dimensions: z.number().int().optional(),
    processedUpToMutation: z.string().nullable().optional(),
    processedUpToDatetime: z.string().nullable().optional(),
    lastMutation: z.object({ id: z.string(), at: z.string() }).nullable().meta({ description: "The worker's last write to it." }),
    lastMutationProcessed: z.boolean().nullable().meta({ description: 'Whether the index has applied that write; null without one.' }),
    error: z.string().optional().meta({ description: 'Why the index or its embedders could not be asked.' }),
  })
  .meta({ id: 'IndexStats' });

export const promotionRecordSchema = z
  .object({ index: z.string(), model: z.string(), previous: z.string(), promotedAt: z.string() })
  .meta({ id: 'Promotion', description: 'The KV record naming the index searches use (meta:active-index).' });

export const statsSchema = z
  .object({
    indexVersion: z.string().meta({ description: 'Part of every result cache key; changes with every write and promotion.' }),
    promotion: promotionRecordSchema.nullable(),
    active: indexStatsSchema.meta({ description: 'The index searches use.' }),
    next: indexStatsSchema.nullable().meta({ description: 'During a migration, before its promotion: the index being filled for the next model.' }),
    previous: indexStatsSchema.nullable().meta({ description: 'After a promotion, until a redeploy removes it: the index searches used before (still written).' }),
    warnings: z.array(z.string()),
  })
  .meta({ id: 'Stats' });

export const promotedSchema = z
  .object({
    active: z.object({ index: z.string(), model: z.string(), vectorCount: z.number().int() }),
    previous: z.object({ index: z.string(), vectorCount: z.number().int().optional() }),
    promotedAt: z.string(),
    indexVersion: z.string(),
  })
  .meta({ id: 'Promoted' });
