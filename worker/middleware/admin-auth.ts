// Admin routes need `Authorization: Bearer <ADMIN_TOKEN>`: 401 without
// credentials, 403 with the wrong ones (or when no ADMIN_TOKEN is set).
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { timingSafeEqualStrings } from '../lib/hash.ts';

export const adminAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header('authorization');
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match)
    throw new ApiError(401, 'unauthorized', 'admin routes need Authorization: Bearer <token>', { 'www-authenticate': 'Bearer realm="admin"' });
  const expected = c.var.services.config.ADMIN_TOKEN;
  if (!expected) throw new ApiError(403, 'forbidden', 'the admin API is disabled (no ADMIN_TOKEN is set)');
  if (!(await timingSafeEqualStrings(match[1]!, expected))) throw new ApiError(403, 'forbidden', 'invalid admin token');
  await next();
};
