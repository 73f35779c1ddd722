// The worker's Hono application: services per isolate, CORS, routes, and one
// error shape for everything. The routes' schemas carry limits from the
// settings, so the application is built once per set of services (per
// isolate and bindings), like the services themselves.
import { OpenAPIHono } from '@hono/zod-openapi';
import { Hono, type ExecutionContext } from 'hono';
import { cors } from 'hono/cors';
import { noRoute } from '../common/http/api-error.ts';
import type { AppContext, AppEnv } from './context.ts';
import { onError } from './errors.ts';
import { serveOpenApi } from './openapi.ts';
import { adminRoutes } from './routes/admin.ts';
import { backfillRoutes } from './routes/backfill.ts';
import { observe } from './observability/observe.ts';
import { healthRoutes } from './routes/health.ts';
import { infoRoutes } from './routes/info.ts';
import { itemRoutes } from './routes/items.ts';
import { searchRoutes } from './routes/search.ts';
import { servicesFor, type Services } from './services.ts';

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const apis = new WeakMap<Services, Hono<AppEnv>>();
  app.all('*', (c) => {
    // Invalid settings throw here (ConfigError) and are answered by onError.
    const services = servicesFor(c.env);
    let api = apis.get(services);
    if (!api) {
      api = apiFor(services);
      apis.set(services, api);
    }
    return api.fetch(c.req.raw, c.env, executionContextOf(c));
  });
  app.onError(onError);
  return app;
}

function apiFor(services: Services): Hono<AppEnv> {
  const { config, schemas } = services;
  const app = new OpenAPIHono<AppEnv>();
  app.use('*', async (c, next) => {
    c.set('services', services);
    await next();
  });
  app.use('*', observe);
  const origins = config.CORS_ORIGINS;
  app.use(
    '*',
    cors({
      origin: origins.includes('*') ? '*' : (origin) => (origins.includes(origin) ? origin : null),
      allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'Authorization', 'If-None-Match', 'X-Request-Id'],
      exposeHeaders: ['ETag', 'Retry-After', 'X-Cache', 'X-Consistency', 'Age', 'X-Request-Id'],
      maxAge: 86_400,
    }),
  );

  searchRoutes(app, config, schemas.search);
  itemRoutes(app, config, schemas.items);
  backfillRoutes(app, config);
  adminRoutes(app);
  healthRoutes(app);
  infoRoutes(app);
  serveOpenApi(app);
  // Where the search page (worker/page/, served as static assets before the worker) is not deployed.
  app.get('/', (c) => c.json({ name: 'crossmodal search', openapi: '/openapi.json', health: '/healthz', info: '/v1/info' }));

  app.notFound(noRoute);
  app.onError(onError);
  return app;
}

/** The request's ExecutionContext; there is none under app.request() in plain Node. */
function executionContextOf(c: AppContext): ExecutionContext | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}
