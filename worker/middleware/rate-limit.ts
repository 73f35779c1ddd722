// Per-client-IP rate limiting of public routes with the Workers Rate Limiting
// binding (RATE_LIMITER). Without the binding nothing is limited.
//
// The client's address is CF-Connecting-IP, which Cloudflare's edge sets and
// a client cannot override there. Locally (Miniflare, wrangler dev) the header
// is only filled in from the socket when the client did not send one, so any
// client can claim any address; the worker cannot tell the socket's own
// address from a claimed one. With TRUST_CF_CONNECTING_IP false (the local
// runner's setting) the header is ignored and all clients share one bucket.
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';

/** The one bucket of every client when CF-Connecting-IP is not trusted. */
export const SHARED_BUCKET = 'all-clients';

export const rateLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  const limiter = c.env.RATE_LIMITER;
  if (limiter) {
    const trusted = c.var.services.config.TRUST_CF_CONNECTING_IP;
    const key = trusted ? (c.req.header('cf-connecting-ip') ?? 'unknown') : SHARED_BUCKET;
    let allowed = true;
    try {
      allowed = (await limiter.limit({ key })).success;
    } catch (error) {
      console.warn('rate limiter failed; letting the request through', error);
    }
    if (!allowed) {
      const period = c.var.services.config.RATE_LIMIT_PERIOD_SECONDS;
      const who = trusted ? 'this address' : 'all clients (CF-Connecting-IP is not trusted here)';
      throw new ApiError(429, 'rate_limited', `too many requests from ${who}; retry in ${period} s`, { 'retry-after': String(period) });
    }
  }
  await next();
};
