// GET /openapi.json: the OpenAPI 3.1 document generated from the route
// definitions the app serves, so the two cannot drift.
import type { OpenAPIHono } from '@hono/zod-openapi';

export function serveOpenApi(app: OpenAPIHono, authenticated: boolean): void {
  if (authenticated)
    app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'EMBEDDER_TOKEN' });
  let body: string | undefined;
  app.get('/openapi.json', (c) => {
    body ??= JSON.stringify(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info: {
          title: 'crossmodal embedder',
          version: '1.0.0',
          description: 'CLIP text and image embeddings, batched. Errors always have the shape { error: { code, message } }.',
        },
        ...(authenticated ? { security: [{ bearer: [] }] } : {}),
      }),
    );
    return c.body(body, 200, { 'content-type': 'application/json' });
  });
}
