// What can go wrong, sorted by what the run does about it.

/** The item itself is bad (not an image, empty, unreachable, refused by the embedder or the target): it goes to the errors file. */
export class ItemError extends Error {
  override readonly name = 'ItemError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A request was refused for what it carried (4xx): a batch is split so that the good items still land; a lone item fails. */
export class RejectedError extends Error {
  override readonly name = 'RejectedError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Worth trying again later: a network error, a timeout, 429, 5xx. `retryAfterMs` is what the server asked for. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The run cannot go on (bad credentials, missing index, wrong dimensions, a service down for too long). */
export class FatalError extends Error {
  override readonly name = 'FatalError';
}

/** Bad flags or settings: the run never starts. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failed fetch (connection refused, reset, DNS, timeout) as a short message. */
export function networkMessage(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** Retry-After as milliseconds (seconds or an HTTP date), capped at ten minutes. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 600_000) : undefined;
}

/**
 * An HTTP error status as one of the above: 408, 429 and 5xx are transient; 401 and 403 are fatal
 * (the credentials will not get better); any other 4xx refuses what the request carried.
 */
export function statusFailure(what: string, status: number, code: string, message: string, retryAfter?: string | null): Error {
  const text = `${what}: HTTP ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
  if (status === 408 || status === 429 || status >= 500) return new TransientError(text, retryAfterMs(retryAfter));
  if (status === 401 || status === 403) return new FatalError(`${text} (check the token)`);
  return new RejectedError(status, code, text);
}
