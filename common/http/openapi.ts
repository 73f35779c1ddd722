// An app's OpenAPI 3.1 document, generated from the routes it lists
// (serveRoute), served as JSON.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Env } from 'hono';

export type DocumentFrame = Parameters<OpenAPIHono['getOpenAPI31Document']>[0];

/** Serves `GET path` (default /openapi.json): the document, generated on first request (every route is listed by then) and kept. */
export function serveOpenApiDocument<E extends Env>(
  app: OpenAPIHono<E>,
  frame: DocumentFrame,
  { path = '/openapi.json', headers = {} }: { path?: string; headers?: Record<string, string> } = {},
): void {
  let body: string | undefined;
  app.get(path, (c) => {
    body ??= JSON.stringify(app.getOpenAPI31Document(frame));
    return c.body(body, 200, { ...headers, 'content-type': 'application/json' });
  });
}
