// The request id that ties one search's log lines together across the worker,
// the embedder and the index: the worker accepts a client's `x-request-id` if
// it is well-formed, else makes one, and sends it on every upstream call; the
// embedder and the index log it. What a client sends is only ever logged as an
// id when it passes this check (short, no spaces, quotes or control characters).

export const REQUEST_ID_HEADER = 'x-request-id';

/** Letters, digits and `._:-`, starting with a letter or digit, at most 128 characters (a UUID, a ULID, a trace id all fit). */
const WELL_FORMED = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The header's value when it is a well-formed request id; undefined otherwise. */
export function requestIdFrom(value: string | null | undefined): string | undefined {
  return value != null && WELL_FORMED.test(value) ? value : undefined;
}
