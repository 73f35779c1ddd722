// The embedder's HTTP API: middleware (metrics, auth, body limit, errors)
// around the route groups.
import { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { bodyLimit } from 'hono/body-limit';
import type { EmbedderDeps } from './context.ts';
import { ApiError, errorBody, errorResponse } from './errors.ts';
import { embedRoutes } from './routes/embed.ts';
import { openAiRoutes } from './routes/openai.ts';
import { scoringRoutes } from './routes/scoring.ts';

export function createApp(deps: EmbedderDeps): Hono {
  const { service, metrics, limits } = deps;
  const app = new Hono();

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const route = c.req.routePath || 'unmatched';
    metrics.requests.inc({ route, status: String(c.res.status) });
    metrics.latency.observe({ route }, (performance.now() - started) / 1000);
  });

  if (deps.token) {
    const unauthorized = (message: string) => () => Response.json(errorBody('unauthorized', message), { status: 401 });
    app.use(
      '/v1/*',
      bearerAuth({
        token: deps.token,
        noAuthenticationHeader: { message: unauthorized('missing Authorization: Bearer token') },
        invalidAuthenticationHeader: { message: unauthorized('malformed Authorization header') },
        invalidToken: { message: unauthorized('invalid token') },
      }),
    );
  }
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: limits.maxBodyBytes,
      // The unread rest of the body makes the connection unusable: tell the client not to reuse it.
      onError: (c) =>
        c.json(errorBody('body_too_large', `request body exceeds ${limits.maxBodyBytes} bytes (EMBEDDER_MAX_BODY_BYTES)`), 413, {
          connection: 'close',
        }),
    }),
  );

  app.route('/v1/embeddings', openAiRoutes(deps));
  app.route('/v1/embed', embedRoutes(deps));
  app.route('/v1', scoringRoutes(deps));

  app.get('/v1/models', (c) => {
    const clip = service.clip;
    return c.json({
      object: 'list',
      data: [
        {
          id: clip.name,
          object: 'model',
          created: 0,
          owned_by: 'crossmodal',
          dim: clip.dim,
          layout: clip.layout,
          provider: clip.provider,
          image_size: clip.imageSize,
          context_length: clip.contextLength,
          logit_scale: clip.logitScale,
        },
      ],
    });
  });
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) =>
    service.ready ? c.json({ status: 'ready', model: service.clip.name, provider: service.clip.provider }) : c.json(errorBody('not_ready', 'model warming up'), 503),
  );
  app.get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));

  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((error, c) => {
    if (!(error instanceof ApiError) && !('status' in error)) console.error(error);
    return errorResponse(c, error);
  });
  return app;
}
