// Request body limits on Hono's bodyLimit, answered with the service's error.
import type { Context, Env, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/**
 * Refuses bodies over `maxSize` bytes (a number, or one per request) by
 * throwing `tooLarge(maxSize)`. A declared Content-Length is checked without
 * touching the body: Hono's bodyLimit reads `req.raw.body` first, which makes
 * @hono/node-server build a web stream it would otherwise skip. Chunked bodies
 * go through bodyLimit, which counts them as they stream in.
 */
export function limitBody<E extends Env = Env>(
  maxSize: number | ((c: Context<E>) => number),
  tooLarge: (maxSize: number) => Error,
): MiddlewareHandler<E> {
  const counting = (max: number) =>
    bodyLimit({
      maxSize: max,
      onError: () => {
        throw tooLarge(max);
      },
    });
  const fixed = typeof maxSize === 'number' ? counting(maxSize) : undefined;
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const max = typeof maxSize === 'number' ? maxSize : maxSize(c);
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(declared) > max) throw tooLarge(max);
      return next();
    }
    return (fixed ?? counting(max))(c, next);
  };
}
