// GET /v1/search (text, or an image by its hash) and POST /v1/search (text,
// image, vector, id or weighted parts; or a raw image body), answered from the
// edge cache when possible.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { failureResponse, matchesMediaType, readQuery, serveRoute } from '../../common/http/routes.ts';
import { etagMatches, type SearchPayload } from '../cache/result-cache.ts';
import type { Config } from '../config.ts';
import { deferFor, type AppContext, type AppEnv } from '../context.ts';
import { checkImageBytes, resolveImage, type ImageLimits } from '../embedding/image-input.ts';
import { badRequest } from '../errors.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { limitBody, requestRules } from '../request.ts';
import { imageHashSchema, isImageHashReference, searchResponseSchema, type SearchSchemas } from '../schemas.ts';
import type { QueryPart } from '../search/query-parts.ts';
import type { SearchInput, SearchOptions, SearchOutcome } from '../search/search-service.ts';

// What render() sends is the document's SearchResponse: the compiler holds the two together.
true satisfies SearchPayload & Pick<SearchOutcome, 'cache' | 'timings'> extends z.input<typeof searchResponseSchema> ? true : false;

const IMAGE_BODY = 'image/*';
const isImageBody = (c: AppContext) => matchesMediaType(c.req.header('content-type'), IMAGE_BODY);
const noParams = z.strictObject({});

/** A JSON search carries its options in the body: the query string must be empty. */
const noQueryWithJson: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!isImageBody(c)) readQuery(c, noParams, requestRules);
  await next();
};


const responses = {
  200: {
    description: 'Results, best first.',
    headers: {
      ETag: { schema: { type: 'string' as const } },
      'Cache-Control': { schema: { type: 'string' as const } },
      'X-Cache': { schema: { type: 'string' as const, enum: ['hit', 'miss', 'stale'] } },
      'X-Consistency': {
        description: 'With `after`: processed (the write is applied; cached as usual) or pending (computed fresh, not cached, the write may not be visible yet).',
        schema: { type: 'string' as const, enum: ['processed', 'pending'] },
      },
    },
    content: { 'application/json': { schema: searchResponseSchema } },
  },
  304: { description: 'Not modified (If-None-Match matched the ETag).' },
  400: failureResponse('Invalid parameter; a cursor altered or from another query (invalid_cursor); a page past the topK cap (paging_limit); parts that cancel out (zero_query)'),
  404: failureResponse('No item with that id (item_not_found), or no known embedding for that image hash (image_not_found: POST the image once)'),
  413: failureResponse('Body too large'),
  415: failureResponse('Unsupported content type'),
  429: failureResponse('Rate limited (see Retry-After)'),
  503: failureResponse('Embedder or index unavailable and nothing cached (see Retry-After)'),
};

export function searchRoutes(app: OpenAPIHono<AppEnv>, config: Config, schemas: SearchSchemas): void {
  const get = createRoute({
    method: 'get',
    path: '/v1/search',
    summary: 'Search by text, or by an image whose embedding is known (by its hash)',
    middleware: [rateLimit],
    request: { query: schemas.get },
    responses,
  });
  serveRoute(app, get, requestRules, async (c, { query }) => {
    const { q, image, ...options } = query;
    const input: SearchInput = image === undefined ? { type: 'text', text: q! } : { type: 'image-hash', sha256: image };
    return render(c, await (await c.var.services.generations.forSearch(deferFor(c))).search.search(origin(c), input, options, deferFor(c)));
  });

  const post = createRoute({
    method: 'post',
    path: '/v1/search',
    summary: 'Search by text, image, vector, stored item or weighted parts; or by a raw image body',
    description: 'The query parameters apply only to a raw image body; a JSON body carries its options itself.',
    middleware: [rateLimit, limitBody((c) => (isImageBody(c) ? config.MAX_IMAGE_BYTES : config.MAX_JSON_BYTES)), noQueryWithJson],
    request: {
      query: schemas.imageParams,
      body: {
        required: true,
        content: {
          'application/json': { schema: schemas.post },
          [IMAGE_BODY]: { schema: { type: 'string', format: 'binary', maxLength: config.MAX_IMAGE_BYTES } },
        },
      },
    },
    responses,
  });
  serveRoute(app, post, requestRules, async (c, { query, json }) => {
    const { generations, imageLimits } = c.var.services;
    let input: SearchInput;
    let options: SearchOptions;
    if (!json) {
      options = query;
      input = { type: 'image', bytes: checkImageBytes(new Uint8Array(await c.req.arrayBuffer()), config.MAX_IMAGE_BYTES) };
    } else {
      const { text, image, vector, id, parts, ...rest } = json;
      options = rest;
      if (text !== undefined) input = { type: 'text', text };
      else if (image !== undefined) {
        const resolved = await imageInput(image, imageLimits);
        input = 'bytes' in resolved ? { type: 'image', bytes: resolved.bytes } : { type: 'image-hash', sha256: resolved.sha256 };
      } else if (vector !== undefined) input = { type: 'vector', vector };
      else if (parts !== undefined) {
        const resolved = await Promise.all(
          parts.map(async ({ weight, ...part }): Promise<QueryPart> => {
            if (part.text !== undefined) return { text: part.text, weight };
            if (part.id !== undefined) return { id: part.id, weight };
            const image = await imageInput(part.image!, imageLimits);
            return 'bytes' in image ? { image: image.bytes, weight } : { imageSha256: image.sha256, weight };
          }),
        );
        input = { type: 'parts', parts: resolved };
      } else input = { type: 'id', id: id! };
    }
    // The active index generation, with its own embedders (worker/generations.ts).
    return render(c, await (await generations.forSearch(deferFor(c))).search.search(origin(c), input, options, deferFor(c)));
  });
}

const origin = (c: AppContext) => new URL(c.req.url).origin;

/** An image as a client gives it: its bytes (URL, data URL, base64), or `sha256:<hex>` of one whose embedding is known. */
async function imageInput(image: string, limits: ImageLimits): Promise<{ bytes: Uint8Array } | { sha256: string }> {
  if (!isImageHashReference(image)) return { bytes: await resolveImage(image, limits) };
  const parsed = imageHashSchema.safeParse(image);
  if (!parsed.success) throw badRequest('invalid_image', 'image references are sha256:<64 hex digits>');
  return { sha256: parsed.data };
}

/** The JSON answer (or 304), with the cache state, ETag and Cache-Control. */
function render(c: AppContext, outcome: SearchOutcome): Response {
  const { CACHE_TTL_SECONDS: ttl, CACHE_SWR_SECONDS: swr, CACHE_STALE_IF_ERROR_SECONDS: staleIfError } = c.var.services.config;
  const maxAge = outcome.cache === 'stale' ? 0 : Math.max(0, Math.floor(ttl - outcome.ageSeconds));
  const cacheable = ttl > 0 && outcome.consistency !== 'pending';
  const headers: Record<string, string> = {
    etag: outcome.etag,
    'cache-control': cacheable ? `public, max-age=${maxAge}, stale-while-revalidate=${Math.ceil(swr)}, stale-if-error=${Math.ceil(staleIfError)}` : 'no-store',
    'x-cache': outcome.cache,
    ...(outcome.consistency ? { 'x-consistency': outcome.consistency } : {}),
  };
  if (outcome.cache !== 'miss') headers.age = String(Math.floor(outcome.ageSeconds));
  if (etagMatches(c.req.header('if-none-match'), outcome.etag)) return c.body(null, 304, headers);
  // The payload is sent as cached, with the per-request fields spliced in (SearchResponse in the OpenAPI document).
  const body = `${outcome.json.slice(0, -1)},"cache":"${outcome.cache}","timings":${JSON.stringify(outcome.timings)}}`;
  return c.body(body, 200, { ...headers, 'content-type': 'application/json' });
}
