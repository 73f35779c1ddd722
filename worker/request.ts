// How the worker reads request input: query strings and JSON bodies against
// zod schemas (common/http/routes.ts), failures answered in the worker's words.
import type { MiddlewareHandler } from 'hono';
import { limitBody as kitLimitBody } from '../common/http/body-limit.ts';
import { describeIssues, UnreadableJsonError } from '../common/http/json-body.ts';
import type { RequestRules } from '../common/http/routes.ts';
import type { AppContext, AppEnv } from './context.ts';
import { ApiError, badRequest } from './errors.ts';

export const requestRules: RequestRules = {
  repeated: (name) => badRequest('invalid_parameter', `${name}: give the parameter once`),
  invalidParameters: (error) => badRequest('invalid_parameter', describeIssues(error)),
  mediaType: {
    accepts: /^application\/(?:[\w.+-]+\+)?json\b/i,
    refuse: () => new ApiError(415, 'unsupported_media_type', 'send JSON with Content-Type: application/json'),
  },
  malformed: (cause) => badRequest('invalid_json', `request body is not valid JSON${cause instanceof UnreadableJsonError ? ` (${cause.message})` : ''}`),
  invalid: (error) => badRequest('invalid_parameter', describeIssues(error)),
};

/** Rejects bodies over `maxSize(c)` bytes with 413 before they are read in full. */
export const limitBody = (maxSize: (c: AppContext) => number): MiddlewareHandler<AppEnv> =>
  kitLimitBody<AppEnv>(maxSize, (max) => new ApiError(413, 'body_too_large', `request body exceeds ${max} bytes`, { connection: 'close' }));
