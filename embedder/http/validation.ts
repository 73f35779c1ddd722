// Request parsing helpers: JSON bodies checked against a zod schema, with
// the first problem reported in plain words.
import type { Context } from 'hono';
import { z } from 'zod';
import type { EmbedderLimits } from '../config.ts';
import { ApiError } from './errors.ts';

/** A text within EMBEDDER_MAX_TEXT_CHARS, saying so when it is not. */
export const limitedText = (limits: EmbedderLimits) =>
  z.string().max(limits.maxTextChars, `longer than ${limits.maxTextChars} characters (EMBEDDER_MAX_TEXT_CHARS)`);

/** A non-empty list within EMBEDDER_MAX_ITEMS, saying so when it is not. */
export const limitedList = <T extends z.ZodType>(item: T, limits: EmbedderLimits) =>
  z.array(item).min(1).max(limits.maxItems, `more than ${limits.maxItems} items (EMBEDDER_MAX_ITEMS)`);

export async function readJson<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new ApiError(400, 'invalid_json', 'request body must be valid JSON');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'body';
    throw new ApiError(400, 'invalid_request', `${where}: ${issue.message}`);
  }
  return parsed.data;
}

/** Float32 rows of `dim` values each, packed end to end into one array. */
export function stack(rows: Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(r, i * dim));
  return out;
}

/** Float32 rows as one little-endian binary body (the worker's and backfill's format). */
export function binaryRows(rows: Float32Array[], dim: number): Response {
  return new Response(new Uint8Array(stack(rows, dim).buffer), {
    headers: {
      'content-type': 'application/octet-stream',
      'x-embedding-dim': String(dim),
      'x-embedding-count': String(rows.length),
    },
  });
}

export const wantsBinary = (c: Context) => (c.req.header('accept') ?? '').includes('application/octet-stream');
