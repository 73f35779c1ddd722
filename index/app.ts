// The HTTP application: Cloudflare's Vectorize v2 REST API under
// /client/v4/accounts/:account_id/vectorize/v2/indexes (any account id).
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { apiErrorHandler } from '../common/http/api-error.ts';
import { REQUEST_ID_HEADER, requestIdFrom } from '../common/http/request-id.ts';
import { ApiError, CODES, type ErrorCode } from './errors.ts';
import { bearerToken } from './http/auth.ts';
import { limitBody } from './http/body.ts';
import { failure } from './http/envelope.ts';
import { indexRoutes } from './http/index-routes.ts';
import { metadataRoutes } from './http/metadata-routes.ts';
import { vectorRoutes } from './http/vector-routes.ts';
import { LIMITS } from './limits.ts';
import { createMetrics } from './metrics.ts';
import type { Catalog } from './storage/catalog.ts';
import { WalClosedError } from './storage/wal.ts';

export const API_PREFIX = '/client/v4';
const INDEXES = `${API_PREFIX}/accounts/:account_id/vectorize/v2/indexes`;

export interface AppOptions {
  catalog: Catalog;
  logger: Logger;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string | undefined;
}

export function createApp({ catalog, logger, token }: AppOptions): Hono {
  const app = new Hono();
  const metrics = createMetrics(catalog);

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    const { status } = c.res;
    const seconds = (performance.now() - started) / 1000;
    // '/*' or '*' when no route answered: no such route, or refused by auth or the body limit.
    const route = c.req.routePath;
    metrics.requests.inc({ route, status: String(status) });
    metrics.latency.observe({ route }, seconds);
    const searched = /search;dur=([\d.]+)/.exec(c.res.headers.get('server-timing') ?? '');
    if (searched) metrics.search.observe(Number(searched[1]) / 1000);
    // The worker's id for the search this call serves.
    const requestId = requestIdFrom(c.req.header(REQUEST_ID_HEADER));
    logger[status >= 500 ? 'warn' : 'debug']({ requestId, method: c.req.method, path: c.req.path, status, ms: +(seconds * 1000).toFixed(2) }, 'request');
  });
  if (token) app.use('*', bearerToken(token));
  app.use('*', limitBody(LIMITS.maxUploadBytes));

  // Prometheus metrics, behind INDEX_TOKEN like every route when it is set.
  app.get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));

  const indexes = new Hono();
  indexRoutes(indexes, catalog);
  vectorRoutes(indexes, catalog);
  metadataRoutes(indexes, catalog);
  app.route(INDEXES, indexes);

  app.notFound((c) => failure(c, 404, { code: CODES.noRoute, message: 'No route for that URI' }));

  app.onError(
    apiErrorHandler<ErrorCode>({
      known: (error) =>
        error instanceof WalClosedError ? new ApiError(503, CODES.internal, 'the index is closing or was deleted; retry') : undefined,
      unknown: () => new ApiError(500, CODES.internal, 'internal error'),
      clientGone: () => new ApiError(400, CODES.badRequestBody, 'the client closed the connection before its request was read'),
      report: (error, known, c) => {
        if (!known) logger.error({ err: error, method: c.req.method, path: c.req.path }, 'unhandled error');
      },
      render: (error, c) => {
        for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
        return failure(c, error.status, { code: error.code, message: error.message });
      },
    }),
  );

  return app;
}
