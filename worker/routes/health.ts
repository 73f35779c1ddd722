// GET /healthz: the worker is up; the embedder's upstreams and the index,
// each with its reachability and latency. 503 when either is unreachable.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { z } from 'zod';
import { failureResponse, jsonResponse, serveRoute } from '../../common/http/routes.ts';
import type { AppEnv } from '../context.ts';
import { elapsedMs } from '../lib/elapsed.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { requestRules } from '../request.ts';
import { healthSchema } from '../schemas.ts';

const PROBE_TIMEOUT_MS = 2000;

const health = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Worker, embedder and index health with latencies',
  middleware: [rateLimit],
  responses: {
    200: jsonResponse('All reachable', healthSchema),
    429: failureResponse('Rate limited'),
    503: jsonResponse('Embedder or index unreachable', healthSchema),
  },
});

export function healthRoutes(app: OpenAPIHono<AppEnv>): void {
  serveRoute(app, health, requestRules, async (c) => {
    // The index searches use now, and its embedders.
    const { client, index } = (await c.var.services.generations.resolve()).active;
    const [upstreams, indexHealth] = await Promise.all([
      client.health(PROBE_TIMEOUT_MS),
      (async () => {
        const started = performance.now();
        try {
          const info = await index.describe();
          return { ok: true, latencyMs: elapsedMs(started), vectorCount: info.vectorCount, dimensions: info.dimensions };
        } catch (error) {
          return { ok: false, latencyMs: elapsedMs(started), error: error instanceof Error ? error.message : String(error) };
        }
      })(),
    ]);
    const embedderOk = upstreams.some((u) => u.ok);
    const ok = embedderOk && indexHealth.ok;
    const body: z.input<typeof healthSchema> = {
      status: ok ? 'ok' : 'degraded',
      worker: { ok: true },
      embedder: { ok: embedderOk, upstreams },
      index: indexHealth,
    };
    return c.json(
      body,
      ok ? 200 : 503,
      { 'cache-control': 'no-store' },
    );
  });
}
