// Per-client-IP rate limiting of public routes with the Workers Rate Limiting
// binding (RATE_LIMITER). Without the binding nothing is limited.
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';

export const rateLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  const limiter = c.env.RATE_LIMITER;
  if (limiter) {
    // Cloudflare sets CF-Connecting-IP; clients cannot override it there.
    const key = c.req.header('cf-connecting-ip') ?? 'unknown';
    let allowed = true;
    try {
      allowed = (await limiter.limit({ key })).success;
    } catch (error) {
      console.warn('rate limiter failed; letting the request through', error);
    }
    if (!allowed) {
      const period = c.var.services.config.RATE_LIMIT_PERIOD_SECONDS;
      throw new ApiError(429, 'rate_limited', `too many requests from this address; retry in ${period} s`, { 'retry-after': String(period) });
    }
  }
  await next();
};
