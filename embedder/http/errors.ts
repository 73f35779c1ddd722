// One error shape for every failure: { error: { code, message } } with the
// right status, whatever layer raised it.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { QueueFullError, QueueTimeoutError, ShuttingDownError } from '../batching/dynamic-batcher.ts';
import { ImageInputError, ImageTooLargeError } from '../image/index.ts';
import { UrlFetchError } from '../net/safe-fetch.ts';

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

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ImageTooLargeError) return new ApiError(413, error.code, `${error.message} (EMBEDDER_MAX_PIXELS)`);
  if (error instanceof ImageInputError) return new ApiError(error.status as ContentfulStatusCode, error.code, error.message);
  if (error instanceof UrlFetchError) return new ApiError(error.status, error.code, error.message);
  if (error instanceof QueueFullError)
    return new ApiError(429, 'queue_full', error.message, { 'retry-after': String(error.retryAfterSeconds) });
  if (error instanceof QueueTimeoutError) return new ApiError(503, 'timeout', error.message, { 'retry-after': '1' });
  if (error instanceof ShuttingDownError) return new ApiError(503, 'shutting_down', error.message, { 'retry-after': '1', connection: 'close' });
  if (error instanceof HTTPException) return new ApiError(error.status as ContentfulStatusCode, 'http_error', error.message || 'request failed');
  return new ApiError(500, 'internal_error', 'internal error');
}

export function errorResponse(c: Context, error: unknown): Response {
  const api = toApiError(error);
  for (const [k, v] of Object.entries(api.headers)) c.header(k, v);
  return c.json(errorBody(api.code, api.message), api.status);
}
