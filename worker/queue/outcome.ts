// What becomes of one backfill message, and what decides it: a failure the
// item itself causes is permanent (dead-lettered at once), anything else
// passes (retried later, with backoff).
import { EmbedderUnavailableError } from '../errors.ts';
import { ApiError } from '../errors.ts';
import { ImageUrlStatusError } from '../embedding/image-input.ts';

export interface Failure {
  code: string;
  message: string;
}

export type Outcome =
  | { kind: 'indexed' }
  /** An older descriptor of an id that comes again later in the same batch. */
  | { kind: 'superseded' }
  | ({ kind: 'dead' } & Failure)
  | ({ kind: 'retry'; retryAfterSeconds?: number } & Failure);

/** Statuses that say nothing about the request itself: the same request may succeed later. */
const passing = (status: number) => status === 408 || status === 429 || status >= 500;

/** A 4xx from the embedder for what it was sent: split the batch until the item is alone. */
export const isContentRefusal = (error: unknown): error is ApiError<string> =>
  error instanceof ApiError && error.status >= 400 && !passing(error.status);

/** An image fetch, an embedder call or an index write that failed, for one item. */
export function outcomeOf(error: unknown): Extract<Outcome, { kind: 'dead' | 'retry' }> {
  if (error instanceof ImageUrlStatusError)
    return { kind: passing(error.upstreamStatus) ? 'retry' : 'dead', code: error.code, message: error.message };
  if (error instanceof EmbedderUnavailableError) {
    const retryAfter = Number(error.headers['retry-after']);
    return { kind: 'retry', code: error.code, message: error.message, ...(retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}) };
  }
  if (error instanceof ApiError) return { kind: passing(error.status) ? 'retry' : 'dead', code: String(error.code), message: error.message };
  return { kind: 'retry', code: 'internal_error', message: error instanceof Error ? error.message : String(error) };
}

export interface Backoff {
  baseSeconds: number;
  maxSeconds: number;
}

/**
 * Seconds before attempt `attempts + 1`: base × 2^(attempts − 1), at most the max, at least what
 * the service asked for, spread over [½, 1] of that so retries of one outage do not arrive together.
 */
export function retryDelaySeconds(attempts: number, backoff: Backoff, retryAfterSeconds = 0, random = Math.random()): number {
  const exponential = Math.min(backoff.maxSeconds, backoff.baseSeconds * 2 ** Math.max(0, attempts - 1));
  const spread = exponential * (0.5 + random / 2);
  return Math.min(backoff.maxSeconds, Math.ceil(Math.max(spread, retryAfterSeconds)));
}
