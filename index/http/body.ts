// Request bodies: size limits, JSON with a JSON content type, and the
// vector upload (raw NDJSON as the SDK sends it, or a multipart `vectors`
// file as wrangler sends it).
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import { ApiError, badRequest, CODES } from '../errors.ts';

/**
 * Refuses bodies over `maxSize`. A declared Content-Length is checked without
 * touching the body, which keeps @hono/node-server's direct body read (Hono's
 * bodyLimit reads `req.raw.body` and so always builds a web stream); only
 * chunked bodies are counted as they stream in.
 */
export function limitBody(maxSize: number): MiddlewareHandler {
  const tooLarge = () => new ApiError(413, CODES.bodyTooLarge, `request body exceeds ${maxSize} bytes`);
  const streaming = bodyLimit({
    maxSize,
    onError: () => {
      throw tooLarge();
    },
  });
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(declared) > maxSize) throw tooLarge();
      return next();
    }
    return streaming(c, next);
  };
}

/** Zod issues as one readable line: `topK: Too big: expected number to be <=100`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

export async function readJson<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type))
    throw badRequest(CODES.badRequestBody, 'Expected request with `Content-Type: application/json`');
  const text = await c.req.text();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw badRequest(CODES.badRequestBody, `request body is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw badRequest(CODES.badRequestBody, describeIssues(parsed.error));
  return parsed.data;
}

export async function readVectorUpload(c: Context): Promise<string> {
  const type = c.req.header('content-type') ?? '';
  if (!/^multipart\/form-data\b/i.test(type)) return c.req.text();
  let form: FormData;
  try {
    form = await c.req.formData();
  } catch (error) {
    throw badRequest(CODES.ndjsonUnparsable, `malformed multipart body: ${(error as Error).message}`);
  }
  const file = form.get('vectors');
  if (file === null) throw badRequest(CODES.ndjsonUnparsable, 'multipart body has no `vectors` field');
  return typeof file === 'string' ? file : file.text();
}
