// The embedder's error codes and its one error shape for every failure,
// { error: { code, message } } with the right status, whatever layer raised
// it: the layers below throw their own errors, mapped here.
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ENVELOPE_CODES, envelopeErrorHandler, ApiError as KitApiError } from '../../common/http/api-error.ts';
import { QueueFullError, QueueTimeoutError, ShuttingDownError } from '../batching/dynamic-batcher.ts';
import { CorruptImageError, DecodeBudgetError, ImageInputError, ImageTooLargeError, ImplausibleImageError } from '../image/index.ts';
import { UrlFetchError } from '../net/safe-fetch.ts';
import { ImageReferenceError, type ImageReferenceProblem } from '../service/image-input.ts';
import { ModelNotFoundError } from '../service/model-set.ts';

/**
 * Every code the embedder chooses itself. Image decoding (ImageInputError:
 * unsupported_image_format, corrupt_image, decompression_bomb) and image URL fetching
 * (UrlFetchError: url_forbidden, url_invalid, url_timeout, …) name their own
 * codes, which are passed on as they are.
 */
export const ERROR_CODES = [
  ...ENVELOPE_CODES,
  // the request
  'invalid_json',
  'invalid_request',
  'invalid_multipart',
  'no_images',
  'too_many_items',
  'empty_image',
  'invalid_image',
  'image_too_large',
  'body_too_large',
  'model_not_found',
  'scoring_unavailable',
  'unauthorized',
  // refused by the HTTP layer before any route (server.ts)
  'bad_request',
  'request_timeout',
  'headers_too_large',
  // the model and its queues
  'not_ready',
  'queue_full',
  'decode_budget_full',
  'timeout',
  'shutting_down',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** How the service layer's image reference problems are answered. */
const imageReference: Record<ImageReferenceProblem, { status: ContentfulStatusCode; code: ErrorCode }> = {
  empty: { status: 400, code: 'empty_image' },
  malformed: { status: 400, code: 'invalid_image' },
  too_large: { status: 413, code: 'image_too_large' },
};

/** A failure the client sees, with one of the embedder's codes (`ApiError<string>` for a code a lower layer named). */
export class ApiError<Code extends string = ErrorCode> extends KitApiError<Code> {}

/** The client's view of what the layers below throw; undefined for anything unexpected. */
function knownError(error: Error): ApiError<string> | undefined {
  if (error instanceof ModelNotFoundError) return new ApiError(404, 'model_not_found', error.message);
  if (error instanceof ImageReferenceError) {
    const { status, code } = imageReference[error.problem];
    return new ApiError(status, code, error.message);
  }
  if (error instanceof ImageTooLargeError) return new ApiError(413, 'image_too_large', `${error.message} (EMBEDDER_MAX_PIXELS)`);
  if (error instanceof ImplausibleImageError) return new ApiError<string>(413, error.code, `${error.message} (EMBEDDER_MAX_PIXELS_PER_BYTE)`);
  if (error instanceof DecodeBudgetError)
    return new ApiError(503, 'decode_budget_full', `${error.message} (EMBEDDER_DECODE_BUDGET_BYTES)`, { 'retry-after': String(error.retryAfterSeconds) });
  if (error instanceof ImageInputError) return new ApiError<string>(error.status as ContentfulStatusCode, error.code, error.message);
  if (error instanceof UrlFetchError) return new ApiError<string>(error.status, error.code, error.message);
  if (error instanceof QueueFullError)
    return new ApiError(429, 'queue_full', error.message, { 'retry-after': String(error.retryAfterSeconds) });
  if (error instanceof QueueTimeoutError) return new ApiError(503, 'timeout', error.message, { 'retry-after': '1' });
  if (error instanceof ShuttingDownError) return new ApiError(503, 'shutting_down', error.message, { 'retry-after': '1', connection: 'close' });
  return undefined;
}

/** Where the embedder's error handler reports: unexpected errors, and the decoder's own words behind a corrupt_image. */
export interface ErrorLog {
  error(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** The app's onError; clients get the project's words, the log gets the libraries' (a decoder's message, a stack). */
export const errorHandler = (log: ErrorLog = { error: console.error, warn: console.warn }) =>
  envelopeErrorHandler({
    known: knownError,
    report: (error, known) => {
      if (!known) log.error({ err: error }, 'unhandled error');
      else if (error instanceof CorruptImageError && error.cause instanceof Error) log.warn({ decoder: error.cause.message }, error.message);
    },
  });
