// The Cloudflare API envelope: {result, success, errors, messages}.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface ErrorDetail {
  code: number;
  message: string;
}

export function ok(c: Context, result: unknown, status: ContentfulStatusCode = 200): Response {
  return c.json({ result, success: true, errors: [], messages: [] }, status);
}

export function failure(c: Context, status: ContentfulStatusCode, error: ErrorDetail): Response {
  return c.json({ result: null, success: false, errors: [error], messages: [] }, status);
}
