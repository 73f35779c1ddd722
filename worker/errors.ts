// The worker's error codes and its error body, { error: { code, message } },
// with the right status; unexpected errors are logged and answered without
// details.
import { ENVELOPE_CODES, envelopeErrorHandler, ApiError as KitApiError } from '../common/http/api-error.ts';
import { ConfigError } from './config.ts';
import type { AppEnv } from './context.ts';

/** Every code the worker answers with (besides an embedder's own 4xx codes, which it passes on). */
export const ERROR_CODES = [
  ...ENVELOPE_CODES,
  // the request
  'invalid_parameter',
  'invalid_json',
  'unsupported_media_type',
  'body_too_large',
  'dimension_mismatch',
  'invalid_image',
  'empty_image',
  'image_too_large',
  'image_fetch_failed',
  'item_not_found',
  'image_not_found',
  'invalid_thumbnail',
  'thumbnail_not_found',
  'invalid_cursor',
  'paging_limit',
  'zero_query',
  'unauthorized',
  'forbidden',
  'rate_limited',
  // the services behind the worker
  'embedder_unavailable',
  'embedder_auth_failed',
  'embedder_error',
  'embedder_rejected',
  'index_unavailable',
  'index_error',
  'queue_unavailable',
  'thumbnails_unavailable',
  // model migrations (worker/generations.ts) and listing
  'model_mismatch',
  'no_next_index',
  'already_promoted',
  'next_index_not_ready',
  // the worker's settings
  'misconfigured',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** A failure the client sees, with one of the worker's codes (`ApiError<string>` for a code passed on from the embedder). */
export class ApiError<Code extends string = ErrorCode> extends KitApiError<Code> {}

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

export const badRequest = (code: ErrorCode, message: string) => new ApiError(400, code, message);

// Hono merges headers set earlier by middleware (CORS) into these answers.
export const onError = envelopeErrorHandler<AppEnv>({
  known: (error) => (error instanceof ConfigError ? new ApiError(500, 'misconfigured', error.message) : undefined),
  report: (error, known) => {
    if (error instanceof ConfigError) console.error(error.message);
    else if (!known) console.error('unhandled error', error);
  },
  headers: { 'cache-control': 'no-store' },
});
