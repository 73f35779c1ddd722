// Request bodies: size limits, JSON with a JSON content type, and the
// vector upload (raw NDJSON as the SDK sends it, or a multipart `vectors`
// file as wrangler sends it).
import type { Context, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { limitBody as kitLimitBody } from '../../common/http/body-limit.ts';
import { describeIssues as kitDescribeIssues, readJsonBody, type JsonBodyRules } from '../../common/http/json-body.ts';
import { ApiError, badRequest, CODES } from '../errors.ts';

/** Refuses bodies over `maxSize` bytes (413, and the connection is closed: the rest of the body is left unread). */
export const limitBody = (maxSize: number): MiddlewareHandler =>
  kitLimitBody(maxSize, (max) => new ApiError(413, CODES.bodyTooLarge, `request body exceeds ${max} bytes`, { connection: 'close' }));

/** Zod issues as one readable line, all of them: `topK: Too big: expected number to be <=100`. */
export const describeIssues = (error: z.ZodError): string => kitDescribeIssues(error, { limit: Infinity });

const jsonRules: JsonBodyRules = {
  mediaType: {
    accepts: /^application\/json\b/i,
    refuse: () => badRequest(CODES.badRequestBody, 'Expected request with `Content-Type: application/json`'),
  },
  malformed: (cause) => badRequest(CODES.badRequestBody, `request body is not valid JSON: ${cause.message}`),
  invalid: (error) => badRequest(CODES.badRequestBody, describeIssues(error)),
};

export const readJson = <T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> => readJsonBody(c, schema, jsonRules);

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
