// Admin routes need `Authorization: Bearer <ADMIN_TOKEN>`: 401 without
// credentials, 403 with the wrong ones (or when no ADMIN_TOKEN is set).
import { bearerAuth } from '../../common/http/bearer.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';

export const adminAuth = bearerAuth<AppEnv>({
  token: (c) => c.var.services.config.ADMIN_TOKEN,
  missing: () =>
    new ApiError(401, 'unauthorized', 'admin routes need Authorization: Bearer <token>', { 'www-authenticate': 'Bearer realm="admin"' }),
  disabled: () => new ApiError(403, 'forbidden', 'the admin API is disabled (no ADMIN_TOKEN is set)'),
  wrong: () => new ApiError(403, 'forbidden', 'invalid admin token'),
});
