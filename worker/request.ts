// Reading and validating request input: query strings and JSON bodies
// against zod schemas, with the first problems named in the message.
import { bodyLimit } from 'hono/body-limit';
import type { MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import type { AppContext, AppEnv } from './context.ts';
import { ApiError, badRequest, describeIssues } from './errors.ts';

export function parseQuery<T extends z.ZodType>(c: AppContext, schema: T): z.output<T> {
  const all = c.req.queries();
  const repeated = Object.entries(all).find(([, values]) => values.length > 1);
  if (repeated) throw badRequest('invalid_parameter', `${repeated[0]}: give the parameter once`);
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw badRequest('invalid_parameter', describeIssues(parsed.error));
  return parsed.data;
}

export const isJson = (c: AppContext) => /^application\/(?:[\w.+-]+\+)?json\b/i.test(c.req.header('content-type') ?? '');

export async function readJson<T extends z.ZodType>(c: AppContext, schema: T): Promise<z.output<T>> {
  if (!isJson(c)) throw new ApiError(415, 'unsupported_media_type', 'send JSON with Content-Type: application/json');
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw badRequest('invalid_json', 'request body is not valid JSON');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw badRequest('invalid_parameter', describeIssues(parsed.error));
  return parsed.data;
}

/** Rejects bodies over `maxSize(c)` bytes with 413 before they are read in full. */
export function limitBody(maxSize: (c: AppContext) => number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const max = maxSize(c);
    return bodyLimit({
      maxSize: max,
      onError: () => {
        throw new ApiError(413, 'body_too_large', `request body exceeds ${max} bytes`, { connection: 'close' });
      },
    })(c, next);
  };
}
