// What the worker knows about the request being served, wherever it is in the
// call tree: its id (sent upstream as x-request-id) and the upstream failures
// met while serving it (counted in its log line and Analytics Engine point).
// Carried by AsyncLocalStorage (the `nodejs_als` compatibility flag), so the
// services built once per isolate need no per-request arguments; background
// work a request starts (waitUntil) keeps its context.
// The Workers type check has no Node module declarations; the Node check
// types the import, and the Workers runtime provides it under nodejs_als.
// @ts-ignore: node:async_hooks is declared for the Node check only.
import { AsyncLocalStorage } from 'node:async_hooks';
import { REQUEST_ID_HEADER } from '../../common/http/request-id.ts';

export type Upstream = 'embedder' | 'index';

export interface RequestContext {
  readonly id: string;
  readonly upstreamErrors: Record<Upstream, number>;
}

interface Storage<T> {
  run<R>(store: T, callback: () => R): R;
  getStore(): T | undefined;
}

const storage: Storage<RequestContext> = new AsyncLocalStorage();

export const newRequestContext = (id: string): RequestContext => ({ id, upstreamErrors: { embedder: 0, index: 0 } });

/** Runs `callback` (the rest of the request) with `context` as the current request. */
export const inRequest = <R>(context: RequestContext, callback: () => R): R => storage.run(context, callback);

export const currentRequest = (): RequestContext | undefined => storage.getStore();

/** Headers for a call to an upstream on behalf of the current request: its id. */
export function upstreamHeaders(): Record<string, string> {
  const context = storage.getStore();
  return context ? { [REQUEST_ID_HEADER]: context.id } : {};
}

/** Counts a failed call to an upstream (a network error, a timeout, a 5xx) against the current request. */
export function noteUpstreamError(upstream: Upstream): void {
  const context = storage.getStore();
  if (context) context.upstreamErrors[upstream]++;
}
