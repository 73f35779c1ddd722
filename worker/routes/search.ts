// GET /v1/search (text) and POST /v1/search (text, image, vector or id; or a
// raw image body), answered from the edge cache when possible.
import type { Hono } from 'hono';
import { z } from 'zod';
import { etagMatches } from '../cache/result-cache.ts';
import { deferFor, type AppContext, type AppEnv } from '../context.ts';
import { checkImageBytes, resolveImage } from '../embedding/image-input.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { limitBody, parseQuery, readJson } from '../request.ts';
import type { SearchInput, SearchOptions, SearchOutcome } from '../search/search-service.ts';

const isImageBody = (c: AppContext) => /^image\/[\w.+-]+/i.test(c.req.header('content-type') ?? '');
const noParams = z.strictObject({});

export function searchRoutes(app: Hono<AppEnv>): void {
  app.get('/v1/search', rateLimit, async (c) => {
    const { search, schemas } = c.var.services;
    const { q, ...options } = parseQuery(c, schemas.search.get);
    return render(c, await search.search(origin(c), { type: 'text', text: q }, options, deferFor(c)));
  });

  app.post(
    '/v1/search',
    rateLimit,
    limitBody((c) => (isImageBody(c) ? c.var.services.config.MAX_IMAGE_BYTES : c.var.services.config.MAX_JSON_BYTES)),
    async (c) => {
      const { search, schemas, config, imageLimits } = c.var.services;
      let input: SearchInput;
      let options: SearchOptions;
      if (isImageBody(c)) {
        options = parseQuery(c, schemas.search.imageParams);
        input = { type: 'image', bytes: checkImageBytes(new Uint8Array(await c.req.arrayBuffer()), config.MAX_IMAGE_BYTES) };
      } else {
        parseQuery(c, noParams);
        const { text, image, vector, id, ...rest } = await readJson(c, schemas.search.post);
        options = rest;
        if (text !== undefined) input = { type: 'text', text };
        else if (image !== undefined) input = { type: 'image', bytes: await resolveImage(image, imageLimits) };
        else if (vector !== undefined) input = { type: 'vector', vector };
        else input = { type: 'id', id: id! };
      }
      return render(c, await search.search(origin(c), input, options, deferFor(c)));
    },
  );
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
  // The payload is sent as cached, with the per-request fields spliced in.
  const body = `${outcome.json.slice(0, -1)},"cache":"${outcome.cache}","timings":${JSON.stringify(outcome.timings)}}`;
  return c.body(body, 200, { ...headers, 'content-type': 'application/json' });
}
