// The HTTP application: Cloudflare's Vectorize v2 REST API under
// /client/v4/accounts/:account_id/vectorize/v2/indexes (any account id).
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { ApiError, CODES } from './errors.ts';
import { bearerToken } from './http/auth.ts';
import { limitBody } from './http/body.ts';
import { failure } from './http/envelope.ts';
import { indexRoutes } from './http/index-routes.ts';
import { metadataRoutes } from './http/metadata-routes.ts';
import { vectorRoutes } from './http/vector-routes.ts';
import { LIMITS } from './limits.ts';
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

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    logger.debug(
      { method: c.req.method, path: c.req.path, status: c.res.status, ms: +(performance.now() - started).toFixed(2) },
      'request',
    );
  });
  if (token) app.use('*', bearerToken(token));
  app.use('*', limitBody(LIMITS.maxUploadBytes));

  const indexes = new Hono();
  indexRoutes(indexes, catalog);
  vectorRoutes(indexes, catalog);
  metadataRoutes(indexes, catalog);
  app.route(INDEXES, indexes);

  app.notFound((c) => failure(c, 404, { code: CODES.noRoute, message: 'No route for that URI' }));

  app.onError((error, c) => {
    if (error instanceof ApiError) {
      // The body of a refused request may be left unread: don't let the client reuse this connection.
      if (error.status === 413 || error.status === 401) c.header('Connection', 'close');
      return failure(c, error.status, { code: error.code, message: error.message });
    }
    if (error instanceof WalClosedError)
      return failure(c, 503, { code: CODES.internal, message: 'the index is closing or was deleted; retry' });
    logger.error({ err: error, method: c.req.method, path: c.req.path }, 'unhandled error');
    return failure(c, 500, { code: CODES.internal, message: 'internal error' });
  });

  return app;
}
