// Every request: an id (the client's x-request-id if well-formed, else a new
// UUID) echoed in the response and sent upstream, then one structured log
// line and one Analytics Engine data point with the route, status, latency,
// cache state, error code, upstream failures and the embedder's circuits
// (listed in the log line only when one is not closed).
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../../common/http/api-error.ts';
import { REQUEST_ID_HEADER, requestIdFrom } from '../../common/http/request-id.ts';
import type { AppEnv } from '../context.ts';
import { elapsedMs } from '../lib/elapsed.ts';
import { analyticsDataset, writeRequestPoint } from './analytics.ts';
import { logJson } from './log.ts';
import { inRequest, newRequestContext } from './request-context.ts';

export const observe: MiddlewareHandler<AppEnv> = async (c, next) => {
  const started = performance.now();
  const context = newRequestContext(requestIdFrom(c.req.header(REQUEST_ID_HEADER)) ?? crypto.randomUUID());
  await inRequest(context, next);
  c.header(REQUEST_ID_HEADER, context.id);

  const { status } = c.res;
  const route = status === 404 && !(c.error instanceof ApiError) && c.req.routePath === '*' ? 'unmatched' : c.req.routePath;
  const { generations, config } = c.var.services;
  const circuits = generations.circuits();
  const error = c.error instanceof ApiError ? String(c.error.code) : c.error ? 'internal_error' : '';
  const record = {
    requestId: context.id,
    method: c.req.method,
    route,
    status,
    latencyMs: elapsedMs(started),
    cache: c.res.headers.get('x-cache') ?? '',
    error,
    circuits,
    openCircuits: circuits.filter((s) => s === 'open').length,
    embedderErrors: context.upstreamErrors.embedder,
    indexErrors: context.upstreamErrors.index,
  };
  writeRequestPoint(analyticsDataset(c.env), record);
  logJson(config.LOG_LEVEL, status >= 500 ? 'warn' : 'info', 'request', {
    requestId: record.requestId,
    method: record.method,
    path: c.req.path,
    route,
    status,
    ms: record.latencyMs,
    ...(record.cache ? { cache: record.cache } : {}),
    ...(error ? { error } : {}),
    ...(circuits.some((s) => s !== 'closed') ? { circuits } : {}),
    ...(record.embedderErrors || record.indexErrors ? { upstreamErrors: context.upstreamErrors } : {}),
  });
};
