// Optional bearer token: every route requires `Authorization: Bearer <token>`.
import type { MiddlewareHandler } from 'hono';
import { bearerAuth } from '../../common/http/bearer.ts';
import { ApiError, CODES } from '../errors.ts';

// The body of a refused request may be left unread: the client must not reuse this connection.
const refused = () => new ApiError(401, CODES.authentication, 'Authentication error', { connection: 'close' });

export const bearerToken = (token: string): MiddlewareHandler => bearerAuth({ token, missing: refused, wrong: refused });
