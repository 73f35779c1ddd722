// `Authorization: Bearer <token>` checks, answered with the service's errors.
//
// Not hono/bearer-auth: it accepts only RFC 6750's token characters
// ([A-Za-z0-9._~+/-]+=*) after exactly one space, so a secret set with
// `wrangler secret put` or INDEX_TOKEN that holds any other character could
// never be presented; and it answers with an HTTPException carrying its own
// response, where each service answers in its own envelope (and the worker
// tells 401, no credentials, from 403, wrong ones). The comparison is Hono's.
import type { Context, Env, MiddlewareHandler } from 'hono';
import { timingSafeEqual } from 'hono/utils/buffer';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Compares two secrets through their SHA-256 digests, in time that does not depend on where they differ. */
export const timingSafeEqualStrings = (a: string, b: string): Promise<boolean> => timingSafeEqual(a, b);

export interface BearerRules<E extends Env = Env> {
  /** The token to present: fixed, or read per request; undefined or empty when none is configured. */
  token: string | ((c: Context<E>) => string | undefined);
  /** No Authorization header. */
  missing: () => Error;
  /** An Authorization header that is not `Bearer <token>` (default: `missing`). */
  malformed?: () => Error;
  /** A token other than the configured one. */
  wrong: () => Error;
  /** No token is configured, so none can be right (default: `wrong`). */
  disabled?: () => Error;
}

export function bearerAuth<E extends Env = Env>(rules: BearerRules<E>): MiddlewareHandler<E> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (header === undefined) throw rules.missing();
    const presented = BEARER.exec(header)?.[1];
    if (presented === undefined) throw (rules.malformed ?? rules.missing)();
    const expected = typeof rules.token === 'string' ? rules.token : rules.token(c);
    if (!expected) throw (rules.disabled ?? rules.wrong)();
    if (!(await timingSafeEqualStrings(presented, expected))) throw rules.wrong();
    await next();
  };
}
