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

/** The envelope of a failure, also for answers written outside Hono (common/http/node-server.ts). */
export const failureBody = (error: ErrorDetail) => ({ result: null, success: false, errors: [error], messages: [] });

export function failure(c: Context, status: ContentfulStatusCode, error: ErrorDetail): Response {
  return c.json(failureBody(error), status);
}
