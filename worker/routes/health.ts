// GET /healthz: the worker is up; the embedder's upstreams and the index,
// each with its reachability and latency. 503 when either is unreachable.
import type { Hono } from 'hono';
import type { AppEnv } from '../context.ts';
import { elapsedMs } from '../lib/elapsed.ts';
import { rateLimit } from '../middleware/rate-limit.ts';

const PROBE_TIMEOUT_MS = 2000;

export function healthRoutes(app: Hono<AppEnv>): void {
  app.get('/healthz', rateLimit, async (c) => {
    const { client, index } = c.var.services;
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
    return c.json(
      {
        status: ok ? 'ok' : 'degraded',
        worker: { ok: true },
        embedder: { ok: embedderOk, upstreams },
        index: indexHealth,
      },
      ok ? 200 : 503,
      { 'cache-control': 'no-store' },
    );
  });
}
