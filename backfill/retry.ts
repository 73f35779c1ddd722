// Exponential backoff with full jitter, honouring Retry-After, until a deadline.
import { FatalError, TransientError } from './failures.ts';

export interface RetryPolicy {
  /** First delay's upper bound. */
  baseMs: number;
  /** No delay is longer than this (Retry-After aside). */
  capMs: number;
  /** Give up (a FatalError) once a call has failed for this long. */
  deadlineMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 250, capMs: 10_000, deadlineMs: 5 * 60_000 };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The pause before retry number `attempt` (0 first): uniform in [0, min(cap, base·2^attempt)], so that
 * clients that failed together do not come back together; never shorter than what Retry-After asked.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, retryAfterMs?: number, random = Math.random): number {
  const jittered = random() * Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
}

/**
 * Runs `operation` until it succeeds or throws anything but a TransientError; a TransientError is
 * retried after backoffDelay, and after `deadlineMs` of failures becomes a FatalError naming `what`.
 */
export async function retrying<T>(
  what: string,
  operation: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
  onRetry?: (error: TransientError, delayMs: number) => void,
): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof TransientError)) throw error;
      const delay = backoffDelay(attempt, policy, error.retryAfterMs);
      if (Date.now() + delay - started > policy.deadlineMs)
        throw new FatalError(`${what}: still failing after ${Math.round((Date.now() - started) / 1000)} s: ${error.message}`);
      onRetry?.(error, delay);
      await sleep(delay);
    }
  }
}
