// The worker's Hono application: services per isolate, CORS, routes, and one
// error shape for everything.
import { Hono, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { AppEnv } from './context.ts';
import { errorBody, onError } from './errors.ts';
import { openApiDocument } from './openapi.ts';
import { healthRoutes } from './routes/health.ts';
import { itemRoutes } from './routes/items.ts';
import { searchRoutes } from './routes/search.ts';
import { servicesFor, type Services } from './services.ts';

const corsFor = new WeakMap<Services, MiddlewareHandler>();
const openApiFor = new WeakMap<Services, string>();

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use('*', async (c, next) => {
    c.set('services', servicesFor(c.env));
    await next();
  });

  app.use('*', async (c, next) => {
    const services = c.var.services;
    let handler = corsFor.get(services);
    if (!handler) {
      const origins = services.config.CORS_ORIGINS;
      handler = cors({
        origin: origins.includes('*') ? '*' : (origin) => (origins.includes(origin) ? origin : null),
        allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
        allowHeaders: ['Content-Type', 'Authorization', 'If-None-Match'],
        exposeHeaders: ['ETag', 'Retry-After', 'X-Cache', 'Age'],
        maxAge: 86_400,
      });
      corsFor.set(services, handler);
    }
    return handler(c, next);
  });

  searchRoutes(app);
  itemRoutes(app);
  healthRoutes(app);

  app.get('/openapi.json', (c) => {
    const services = c.var.services;
    let body = openApiFor.get(services);
    if (!body) {
      body = JSON.stringify(openApiDocument(services.config));
      openApiFor.set(services, body);
    }
    return c.body(body, 200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
  });
  app.get('/', (c) => c.json({ name: 'crossmodal search', openapi: '/openapi.json', health: '/healthz' }));

  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError(onError);
  return app;
}
