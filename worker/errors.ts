// One error shape for every failure, { error: { code, message } }, with the
// right status; unexpected errors are logged and answered without details.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { ConfigError } from './config.ts';

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The embedder could not be reached (every upstream failed, timed out or has an open circuit). */
export class EmbedderUnavailableError extends ApiError {
  constructor(message: string, retryAfterSeconds: number) {
    super(503, 'embedder_unavailable', message, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}

/** The vector index could not be reached or failed. */
export class IndexUnavailableError extends ApiError {
  constructor(message: string) {
    super(503, 'index_unavailable', message, { 'retry-after': '5' });
  }
}

export const errorBody = (code: string, message: string) => ({ error: { code, message } });

export const badRequest = (code: string, message: string) => new ApiError(400, code, message);

/** Zod issues as one readable line: `k: Too big: expected number to be <=100`. */
export function describeIssues(error: z.ZodError, where?: string): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      // A record key's own problem is more useful than zod's "Invalid key in record".
      const inner = issue.code === 'invalid_key' ? issue.issues[0] : undefined;
      const path = [...(where ? [where] : []), ...issue.path.map(String)].join('.');
      const message = inner ? inner.message : issue.message;
      return path ? `${path}: ${message}` : message;
    })
    .join('; ');
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof HTTPException) return new ApiError(error.status as ContentfulStatusCode, 'http_error', error.message || 'request failed');
  if (error instanceof ConfigError) return new ApiError(500, 'misconfigured', error.message);
  return new ApiError(500, 'internal_error', 'internal error');
}

export function errorResponse(error: unknown): Response {
  const api = toApiError(error);
  if (error instanceof ConfigError) console.error(error.message);
  else if (!(error instanceof ApiError) && !(error instanceof HTTPException)) console.error('unhandled error', error);
  return Response.json(errorBody(api.code, api.message), {
    status: api.status,
    headers: { 'cache-control': 'no-store', ...api.headers },
  });
}

// Hono merges headers set earlier by middleware (CORS) into this response.
export const onError = (error: Error, _c: Context) => errorResponse(error);
