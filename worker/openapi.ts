// The OpenAPI 3.1 document served at /openapi.json. It is generated from the
// route definitions the app serves (routes/*.ts, with the schemas of
// schemas.ts for requests and responses), so the two cannot drift.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { serveOpenApiDocument } from '../common/http/openapi.ts';
import type { AppEnv } from './context.ts';

export function serveOpenApi(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'admin', { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' });
  serveOpenApiDocument(
    app,
    {
      openapi: '3.1.0',
      info: {
        title: 'crossmodal search',
        version: '1.0.0',
        description: 'Text-and-image semantic search at the edge. Errors always have the shape { error: { code, message } }.',
      },
    },
    { headers: { 'cache-control': 'public, max-age=300' } },
  );
}
