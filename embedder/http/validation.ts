// Request input: the rules JSON bodies are read by (any Content-Type, the
// first problem reported in plain words), schema pieces that name the limit
// they enforce, and the float32 output format.
import type { Context } from 'hono';
import { z } from 'zod';
import { describeIssues, UnreadableJsonError } from '../../common/http/json-body.ts';
import type { RequestRules } from '../../common/http/routes.ts';
import type { EmbedderLimits } from '../config.ts';
import { ApiError } from './errors.ts';

const invalidRequest = (error: z.ZodError) => new ApiError(400, 'invalid_request', describeIssues(error, { limit: 1, whole: 'body' }));

export const requestRules: RequestRules = {
  malformed: (cause) => new ApiError(400, 'invalid_json', `request body must be valid JSON${cause instanceof UnreadableJsonError ? ` (${cause.message})` : ''}`),
  invalid: invalidRequest,
  invalidParameters: invalidRequest,
  repeated: (name) => new ApiError(400, 'invalid_request', `${name}: give the parameter once`),
};

/** A text within EMBEDDER_MAX_TEXT_CHARS, saying so when it is not. */
export const limitedText = (limits: EmbedderLimits) =>
  z.string().max(limits.maxTextChars, `longer than ${limits.maxTextChars} characters (EMBEDDER_MAX_TEXT_CHARS)`);

/** Which served model a request is for (GET /v1/models lists them); unknown names are 404 model_not_found. */
export const modelField = z
  .string()
  .min(1)
  .max(256)
  .optional()
  .meta({ description: 'The model to use, by its id in GET /v1/models; default: the first listed.' });

/** A non-empty list within EMBEDDER_MAX_ITEMS, saying so when it is not. */
export const limitedList = <T extends z.ZodType>(item: T, limits: EmbedderLimits) =>
  z.array(item).min(1).max(limits.maxItems, `more than ${limits.maxItems} items (EMBEDDER_MAX_ITEMS)`);

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
