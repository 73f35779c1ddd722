// GET /v1/search (text) and POST /v1/search (text, image, vector or id; or a
// raw image body), answered from the edge cache when possible.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { failureResponse, matchesMediaType, readQuery, serveRoute } from '../../common/http/routes.ts';
import { etagMatches, type SearchPayload } from '../cache/result-cache.ts';
import type { Config } from '../config.ts';
import { deferFor, type AppContext, type AppEnv } from '../context.ts';
import { checkImageBytes, resolveImage } from '../embedding/image-input.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { limitBody, requestRules } from '../request.ts';
import { searchResponseSchema, type SearchSchemas } from '../schemas.ts';
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
    },
    content: { 'application/json': { schema: searchResponseSchema } },
  },
  304: { description: 'Not modified (If-None-Match matched the ETag).' },
  400: failureResponse('Invalid parameter'),
  404: failureResponse('No item with that id (id queries)'),
  413: failureResponse('Body too large'),
  415: failureResponse('Unsupported content type'),
  429: failureResponse('Rate limited (see Retry-After)'),
  503: failureResponse('Embedder or index unavailable and nothing cached (see Retry-After)'),
};

export function searchRoutes(app: OpenAPIHono<AppEnv>, config: Config, schemas: SearchSchemas): void {
  const get = createRoute({
    method: 'get',
    path: '/v1/search',
    summary: 'Search by text',
    middleware: [rateLimit],
    request: { query: schemas.get },
    responses,
  });
  serveRoute(app, get, requestRules, async (c, { query }) => {
    const { q, ...options } = query;
    return render(c, await c.var.services.search.search(origin(c), { type: 'text', text: q }, options, deferFor(c)));
  });

  const post = createRoute({
    method: 'post',
    path: '/v1/search',
    summary: 'Search by text, image, vector or stored item; or by a raw image body',
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
    const { search, imageLimits } = c.var.services;
    let input: SearchInput;
    let options: SearchOptions;
    if (!json) {
      options = query;
      input = { type: 'image', bytes: checkImageBytes(new Uint8Array(await c.req.arrayBuffer()), config.MAX_IMAGE_BYTES) };
    } else {
      const { text, image, vector, id, ...rest } = json;
      options = rest;
      if (text !== undefined) input = { type: 'text', text };
      else if (image !== undefined) input = { type: 'image', bytes: await resolveImage(image, imageLimits) };
      else if (vector !== undefined) input = { type: 'vector', vector };
      else input = { type: 'id', id: id! };
    }
    return render(c, await search.search(origin(c), input, options, deferFor(c)));
  });
}

const origin = (c: AppContext) => new URL(c.req.url).origin;

/** The JSON answer (or 304), with the cache state, ETag and Cache-Control. */
function render(c: AppContext, outcome: SearchOutcome): Response {
  const { CACHE_TTL_SECONDS: ttl, CACHE_SWR_SECONDS: swr, CACHE_STALE_IF_ERROR_SECONDS: staleIfError } = c.var.services.config;
  const maxAge = outcome.cache === 'stale' ? 0 : Math.max(0, Math.floor(ttl - outcome.ageSeconds));
  const headers: Record<string, string> = {
    etag: outcome.etag,
    'cache-control':
      ttl > 0 ? `public, max-age=${maxAge}, stale-while-revalidate=${Math.ceil(swr)}, stale-if-error=${Math.ceil(staleIfError)}` : 'no-store',
    'x-cache': outcome.cache,
  };
  if (outcome.cache !== 'miss') headers.age = String(Math.floor(outcome.ageSeconds));
  if (etagMatches(c.req.header('if-none-match'), outcome.etag)) return c.body(null, 304, headers);
  // The payload is sent as cached, with the per-request fields spliced in (SearchResponse in the OpenAPI document).
  const body = `${outcome.json.slice(0, -1)},"cache":"${outcome.cache}","timings":${JSON.stringify(outcome.timings)}}`;
  return c.body(body, 200, { ...headers, 'content-type': 'application/json' });
}
