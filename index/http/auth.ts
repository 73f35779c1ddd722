// Optional bearer token: every route requires `Authorization: Bearer <token>`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ApiError, CODES } from '../errors.ts';

// Comparing digests keeps the comparison constant-time whatever the lengths.
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function bearerToken(token: string): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match || !timingSafeEqual(digest(match[1]!), expected))
      throw new ApiError(401, CODES.authentication, 'Authentication error');
    await next();
  };
}
