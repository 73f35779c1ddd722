// The embedder's HTTP API: middleware (metrics, request log, auth, body
// limit, errors) around the routes, and the OpenAPI document they make.
import { OpenAPIHono } from '@hono/zod-openapi';
import { noRoute } from '../../common/http/api-error.ts';
import { limitBody } from '../../common/http/body-limit.ts';
import { bearerAuth } from '../../common/http/bearer.ts';
import { REQUEST_ID_HEADER, requestIdFrom } from '../../common/http/request-id.ts';
import type { EmbedderDeps } from './context.ts';
import { ApiError, errorHandler } from './errors.ts';
import { serveOpenApi } from './openapi.ts';
import { embedRoutes } from './routes/embed.ts';
import { openAiRoutes } from './routes/openai.ts';
import { operationRoutes } from './routes/operations.ts';
import { scoringRoutes } from './routes/scoring.ts';
import { testFaultRoutes, testFaultsEnabled } from './test-faults.ts';

const unauthorized = (message: string) => () => new ApiError(401, 'unauthorized', message, { 'www-authenticate': 'Bearer' });

export function createApp(deps: EmbedderDeps): OpenAPIHono {
  const { metrics, limits, requestLog } = deps;
  const app = new OpenAPIHono();
  const faults = testFaultsEnabled();

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const route = c.req.routePath || 'unmatched';
    const { status } = c.res;
    const seconds = (performance.now() - started) / 1000;
    metrics.requests.inc({ route, status: String(status) });
    metrics.latency.observe({ route }, seconds);
    // The worker's id for the search this call serves (debug level; failures always).
    const requestId = requestIdFrom(c.req.header(REQUEST_ID_HEADER));
    requestLog?.[status >= 500 ? 'warn' : 'debug']({ requestId, method: c.req.method, route, status, ms: Math.round(seconds * 1e5) / 100 }, 'request');
  });

  const tokenFor = (token: string) =>
    bearerAuth({
      token,
      missing: unauthorized('missing Authorization: Bearer token'),
      malformed: unauthorized('malformed Authorization header'),
      wrong: unauthorized('invalid token'),
    });
  if (deps.token) app.use('/v1/*', tokenFor(deps.token));
  // Metrics have their own token: a Prometheus scraper need not hold the one that embeds.
  if (deps.metricsToken) app.use('/metrics', tokenFor(deps.metricsToken));
  // The unread rest of a refused body makes the connection unusable: the client is told not to reuse it.
  app.use(
    '/v1/*',
    limitBody(
      limits.maxBodyBytes,
      (max) => new ApiError(413, 'body_too_large', `request body exceeds ${max} bytes (EMBEDDER_MAX_BODY_BYTES)`, { connection: 'close' }),
    ),
  );

  if (faults) testFaultRoutes(app);

  openAiRoutes(app, deps);
  embedRoutes(app, deps);
  scoringRoutes(app, deps);
  operationRoutes(app, deps);
  serveOpenApi(app, deps.token !== undefined, deps.metricsToken !== undefined);

  app.notFound(noRoute);
  app.onError(errorHandler(deps.log));
  return app;
}
