// Following one request through the stack: the worker takes the client's
// x-request-id (or makes one), echoes it, writes one structured log line for
// the request, and sends the id to the embedder and the index, which log it.
// With an Analytics Engine dataset bound (Miniflare's own simulator) the
// worker serves as without one.
//
// What this cannot show: the Analytics Engine data points themselves.
// Miniflare's simulator (miniflare/dist/src/workers/analytics-engine/
// analytics-engine.worker.js) accepts writeDataPoint and drops the point, and
// nothing outside Cloudflare can read a dataset back, so the columns
// (worker/observability/analytics.ts) are checked on Cloudflare only.
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureIndex, type LocalWorker } from '../../scripts/worker/local.ts';
import { startLocalTarget, type VectorizeTarget } from '../support/index-server.ts';
import { eventually } from '../support/timing.ts';
import { ADMIN_TOKEN, startStack, type Stack } from '../support/worker-stack.ts';

let stack: Stack;
let index: VectorizeTarget;
let worker: LocalWorker;
const workerLines: Record<string, unknown>[] = [];
const indexLines: Record<string, unknown>[] = [];

/** Collects the JSON lines workerd writes (the worker's console). */
const collect = (stream: Readable) =>
  createInterface({ input: stream }).on('line', (line) => {
    try {
      workerLines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not one of the worker's structured lines
    }
  });
const jsonLines = (lines: string[]) =>
  lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

beforeAll(async () => {
  stack = await startStack({ seed: 13, embedderEnv: { EMBEDDER_LOG_LEVEL: 'debug' } });
  // An index whose log this test reads: in this process, on its own port, behind real HTTP.
  index = await startLocalTarget({ logger: pino({ level: 'debug' }, { write: (line: string) => void indexLines.push(JSON.parse(line) as Record<string, unknown>) }) });
  const indexUrl = `${index.baseURL}/accounts/local/vectorize/v2/indexes/traced`;
  await ensureIndex({ indexUrl, dimensions: stack.dim, token: index.token });
  worker = await stack.addWorker({
    vectorizeUrl: indexUrl,
    vectorizeToken: index.token,
    vars: { LOG_LEVEL: 'info' },
    miniflare: {
      analyticsEngineDatasets: { ANALYTICS: { dataset: 'crossmodal_search_test' } },
      handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
        collect(stdout);
        collect(stderr);
      },
    },
  });
  const written = await fetch(`${worker.url}/v1/items`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ items: [{ id: 'a', text: 'a red kite' }, { id: 'b', text: 'a blue boat' }] }),
  });
  expect(written.status).toBe(202);
});

afterAll(async () => {
  await stack?.close();
  await index?.close();
});

describe('request ids', () => {
  it('takes a well-formed x-request-id, echoes it, logs the request, and sends it to the embedder and the index', async () => {
    const id = 'trace-0001.search:abc';
    const response = await fetch(`${worker.url}/v1/search?q=${encodeURIComponent('kite in the wind')}&k=1`, { headers: { 'x-request-id': id } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe(id);

    const logged = await eventually(async () => workerLines.find((l) => l.requestId === id), "the worker's log line");
    expect(logged).toMatchObject({ level: 'info', msg: 'request', method: 'GET', path: '/v1/search', route: '/v1/search', status: 200, cache: 'miss' });
    expect(logged.ms).toEqual(expect.any(Number));
    expect(JSON.stringify(logged)).not.toContain('kite'); // the query itself is not logged

    const embedderLine = await eventually(
      async () => jsonLines(stack.embedder.logs).find((l) => l.requestId === id && l.route === '/v1/embed/text'),
      "the embedder's log line",
    );
    expect(embedderLine).toMatchObject({ msg: 'request', method: 'POST', status: 200 });
    const indexLine = indexLines.find((l) => l.requestId === id && String(l.path).endsWith('/query'));
    expect(indexLine).toMatchObject({ msg: 'request', method: 'POST', status: 200 });
  });

  it('replaces a malformed or missing id with a fresh UUID', async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const header of [{ 'x-request-id': 'has spaces and "quotes"' }, { 'x-request-id': 'x'.repeat(200) }, {}]) {
      const response = await fetch(`${worker.url}/v1/items/a`, { headers: header });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-request-id')).toMatch(uuid);
    }
  });

  it('logs failures at warn with their error code and the upstream failures behind them', async () => {
    await stack.killEmbedder();
    try {
      const id = 'trace-0002';
      const response = await fetch(`${worker.url}/v1/search?q=never+seen+before`, { headers: { 'x-request-id': id } });
      expect(response.status).toBe(503);
      const logged = await eventually(async () => workerLines.find((l) => l.requestId === id), "the worker's log line");
      expect(logged).toMatchObject({ level: 'warn', status: 503, error: 'embedder_unavailable', upstreamErrors: { embedder: 1, index: 0 } });
    } finally {
      await stack.restartEmbedder();
    }
  });
});
