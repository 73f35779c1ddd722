// GET /openapi.json: the OpenAPI 3.1 document generated from the route
// definitions the app serves (routes/*.ts), so the two cannot drift.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { serveOpenApiDocument } from '../../common/http/openapi.ts';

export function serveOpenApi(app: OpenAPIHono, authenticated: boolean, metricsAuthenticated = false): void {
  if (authenticated) app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'EMBEDDER_TOKEN' });
  if (metricsAuthenticated)
    app.openAPIRegistry.registerComponent('securitySchemes', 'metrics', { type: 'http', scheme: 'bearer', description: 'EMBEDDER_METRICS_TOKEN' });
  serveOpenApiDocument(app, {
    openapi: '3.1.0',
    info: {
      title: 'crossmodal embedder',
      version: '1.0.0',
      description: 'CLIP text and image embeddings, dynamically batched. Errors always have the shape { error: { code, message } }.',
    },
    ...(authenticated ? { security: [{ bearer: [] }] } : {}),
  });
}
