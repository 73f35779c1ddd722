// The Hono environment every route shares.
import type { Context } from 'hono';
import type { Env } from './config.ts';
import type { Defer } from './embedding/query-embedder.ts';
import type { Services } from './services.ts';

export interface AppEnv {
  Bindings: Env;
  Variables: { services: Services };
}

export type AppContext = Context<AppEnv>;

/** ExecutionContext.waitUntil when there is one (there is none under app.request() in plain Node). */
export function deferFor(c: AppContext): Defer {
  let ctx: { waitUntil(promise: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    ctx = undefined;
  }
  return (promise) => {
    const settled = promise.catch((error: unknown) => console.warn('background work failed', error));
    if (ctx) ctx.waitUntil(settled);
  };
}
