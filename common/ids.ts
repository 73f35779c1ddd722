// What an item id may be: one rule for the worker's API and the local index.
//
// Real Vectorize bounds an id at 64 bytes of UTF-8 (shared/docs/vectorize.md
// §4, error 40008) and says nothing of its characters. Within that bound an
// id here must also be text that can be addressed and shown: every accepted
// id survives `GET/DELETE /v1/items/{encodeURIComponent(id)}` and a log line.
// So it may hold any Unicode text except
// - control characters (C0, DEL, C1), line and paragraph separators, and the
//   bidirectional controls that make text display other than it reads;
// - lone surrogates (not Unicode text: they cannot be encoded as UTF-8 or in a URL);
// - "." or ".." as the whole id: URL parsers resolve those path segments away,
//   even percent-encoded, so such an item could never be addressed.
// "/" is allowed: backfill's path ids are relative paths and URLs, and
// `/v1/items/a%2Fb.jpg` reaches the item `a/b.jpg` (routers match on the
// encoded path). No id is ever used as a file name.
import { z } from 'zod';

export const MAX_ID_BYTES = 64;

const LONE_SURROGATE = /\p{Cs}/u;
const INVISIBLE = /[\p{Cc}\p{Zl}\p{Zp}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

const utf8Bytes = (text: string) => new TextEncoder().encode(text).length;

/** What is wrong with `id` as an item id, or undefined when it is a valid one. */
export function idProblem(id: string): string | undefined {
  if (id.length === 0) return 'must not be empty';
  if (LONE_SURROGATE.test(id)) return 'must be valid Unicode text (it holds a lone surrogate)';
  const bytes = utf8Bytes(id);
  if (bytes > MAX_ID_BYTES) return `must be at most ${MAX_ID_BYTES} bytes of UTF-8 (got ${bytes})`;
  if (INVISIBLE.test(id)) return 'must not contain control characters, line separators or bidirectional controls';
  if (id === '.' || id === '..') return 'must not be "." or ".."';
  return undefined;
}

/**
 * An item id (see idProblem), with the problem as the issue's message. The
 * length checks only settle the obvious cases early and put the bounds in
 * the OpenAPI document: 64 bytes of UTF-8 are at most 64 UTF-16 units.
 */
export const idSchema = z
  .string()
  .min(1, { message: 'must not be empty', abort: true })
  .max(MAX_ID_BYTES, { message: `must be at most ${MAX_ID_BYTES} bytes of UTF-8`, abort: true })
  .superRefine((id, ctx) => {
    const problem = idProblem(id);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
