// npm run bench:worker — the search worker in workerd (Miniflare) on the
// local stack (embedder and local index as child processes), loaded with
// autocannon: cached hits and cold misses (a new query each request, so
// neither the result cache nor KV helps) at 1, 16 and 64 connections; then,
// with one Node client for all, the same misses sent directly to the
// embedder and the index, through the worker, and through a worker without
// KV and result cache (what the worker's own code costs, apart from the
// local KV and Cache API simulators). Search API v2: on a worker without a
// result cache but with KV, a combined query of three cached parts (two texts
// and a stored item; no embedder call, which the run checks) against a plain
// text query with a cached embedding; and paging to page 5 (k = 10, topK 50)
// with the signed cursor: cached, uncached, and the walk from page 1.
//   BENCH_DURATION (5 s per run)  BENCH_ITEMS (500)
//   BENCH_MODEL_DIR (default: the full-size random ViT-B/32, generated into
//   models/random-vit-b-32-hf if missing, so a miss costs what a real CLIP costs;
//   `tiny` for the generated tiny model)
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon, { type AutocannonRequest } from 'autocannon';
import { printTable, printTargets, target, writeResults } from './harness.ts';
import { EMBEDDER_TOKEN, startStack } from '../support/worker-stack.ts';
import { generate } from '../../embedder/model-gen/generate.ts';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = [1, 16, 64];
const K = 10;
const ITEMS = Number(process.env.BENCH_ITEMS ?? 500);

const log = (message: string) => console.log(`[${(performance.now() / 1000).toFixed(1)}s] ${message}`);
const round = (v: number, digits = 2) => Number(v.toFixed(digits));

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  failures: number;
  /** Why requests failed, with counts. */
  reasons: Record<string, number>;
}

function summarize(latencies: number[], seconds: number, reasons: Map<string, number>): Measured {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  const failures = [...reasons.values()].reduce((a, b) => a + b, 0);
  return { rps: round(sorted.length / seconds, 1), p50: round(at(0.5), 3), p99: round(at(0.99), 3), requests: sorted.length, failures, reasons: Object.fromEntries(reasons) };
}

const count = (reasons: Map<string, number>, reason: string, n = 1) => reasons.set(reason, (reasons.get(reason) ?? 0) + n);

/** autocannon, with latencies taken from its per-response events (its histogram has 1 ms resolution). */
function cannon(url: string, connections: number, requests: AutocannonRequest[]): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const reasons = new Map<string, number>();
    const instance = autocannon({ url, connections, duration: DURATION_S, requests, timeout: 30 }, (error, result) => {
      if (error) return reject(error);
      if (result.errors) count(reasons, 'connection errors', result.errors - result.timeouts);
      if (result.timeouts) count(reasons, 'timeouts', result.timeouts);
      resolve(summarize(latencies, result.duration, reasons));
    });
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
      else count(reasons, `HTTP ${status}`);
    });
  });
}

/** `connections` loops for DURATION_S, each running `once` back to back. */
async function loops(connections: number, once: (n: number) => Promise<void>): Promise<Measured> {
  const latencies: number[] = [];
  const reasons = new Map<string, number>();
  let counter = 0;
  const started = performance.now();
  const end = started + DURATION_S * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await once(counter++);
          latencies.push(performance.now() - t);
        } catch (error) {
          const cause = (error as Error).cause as { code?: string } | undefined;
          count(reasons, `${(error as Error).message}${cause?.code ? ` (${cause.code})` : ''}`);
        }
      }
    }),
  );
  return summarize(latencies, (performance.now() - started) / 1000, reasons);
}

let unique = 0;
const uniqueQuery = () => `bench query ${process.pid} ${unique++} ${Math.random().toString(36).slice(2, 8)}`;

// A miss costs what a real CLIP costs: the full-size random ViT-B/32 by
// default (generated once); BENCH_MODEL_DIR=tiny runs the tiny model instead.
const fullSize = resolve('models/random-vit-b-32-hf');
if (!process.env.BENCH_MODEL_DIR && !existsSync(join(fullSize, 'onnx/text_model.onnx'))) {
  log(`generating ${fullSize} (random weights, ViT-B/32 shapes)`);
  generate({ arch: 'vit-b-32', outDir: resolve('models'), layouts: ['hf'] });
}
const MODEL_DIR = process.env.BENCH_MODEL_DIR === 'tiny' ? undefined : (process.env.BENCH_MODEL_DIR ?? fullSize);
log(`starting the embedder (${MODEL_DIR ?? 'tiny model'}), the index and the worker`);
const stack = await startStack({
  seed: 21,
  ...(MODEL_DIR ? { modelDir: MODEL_DIR } : {}),
  // Every request comes from 127.0.0.1: a limit that is checked but never reached.
  rateLimit: { limit: 1_000_000_000, period: 60 },
  vars: { CACHE_TTL_SECONDS: '3600' },
});
try {
  const worker = stack.worker.url;
  const bare = (await stack.addWorker({ vars: { CACHE_TTL_SECONDS: '0' }, miniflare: { kvNamespaces: [] } })).url;
  const words = ['red', 'blue', 'quiet', 'busy', 'old', 'new', 'tall', 'small', 'bright', 'dark'];
  const nouns = ['car', 'house', 'street', 'forest', 'lake', 'cat', 'dog', 'boat', 'bridge', 'tower'];
  const texts = Array.from({ length: ITEMS }, (_, i) => `a ${words[i % 10]} ${nouns[Math.floor(i / 10) % 10]} number ${i}`);
  for (let i = 0; i < texts.length; i += 100) {
    const response = await fetch(`${worker}/v1/items`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
      body: JSON.stringify({ items: texts.slice(i, i + 100).map((text, j) => ({ id: `item-${i + j}`, text, metadata: { n: i + j } })) }),
    });
    if (response.status !== 202) throw new Error(`indexing failed: ${response.status} ${await response.text()}`);
  }
  log(`indexed ${ITEMS} items (dim ${stack.dim})`);

  const hitPath = `/v1/search?q=${encodeURIComponent('a quiet lake at dusk')}&k=${K}`;
  const warm = await fetch(`${worker}${hitPath}`);
  if (warm.status !== 200) throw new Error(`warm-up failed: ${warm.status}`);
  await warm.text();
  const check = (await (await fetch(`${worker}${hitPath}`)).json()) as { cache: string };
  if (check.cache !== 'hit') throw new Error(`expected a cache hit, got ${check.cache}`);
  // Warm the miss path too (model discovery, connections), outside the measurements.
  for (let i = 0; i < 20; i++) await (await fetch(`${worker}/v1/search?q=${encodeURIComponent(uniqueQuery())}&k=${K}`)).text();

  const embedHeaders = { authorization: `Bearer ${EMBEDDER_TOKEN}`, 'content-type': 'application/json', accept: 'application/octet-stream' };
  const direct = async () => {
    const embedded = await fetch(`${stack.embedder.url}/v1/embed/text`, { method: 'POST', headers: embedHeaders, body: JSON.stringify({ texts: [uniqueQuery()] }) });
    if (!embedded.ok) throw new Error(`embedder HTTP ${embedded.status}`);
    const vector = Array.from(new Float32Array(await embedded.arrayBuffer()));
    const queried = await fetch(`${stack.indexUrl}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ vector, topK: K }),
    });
    if (!queried.ok) throw new Error(`index HTTP ${queried.status}`);
    await queried.arrayBuffer();
  };
  const workerMiss = (url: string) => async () => {
    const response = await fetch(`${url}/v1/search?q=${encodeURIComponent(uniqueQuery())}&k=${K}`);
    if (!response.ok) throw new Error(`worker HTTP ${response.status} ${(await response.text()).slice(0, 120)}`);
    await response.arrayBuffer();
  };
  for (let i = 0; i < 20; i++) await workerMiss(bare)();

  const rows: Record<string, string | number>[] = [];
  const results: Record<string, Record<number, Measured>> = {
    hit: {},
    miss: {},
    directLoop: {},
    missLoop: {},
    bareLoop: {},
    plainKv: {},
    combinedKv: {},
    page5Kv: {},
    page5Hit: {},
    walkTo5Kv: {},
  };
  const record = (key: keyof typeof results, label: string, c: number, m: Measured) => {
    results[key]![c] = m;
    rows.push({ what: label, connections: c, 'req/s': m.rps, 'p50 ms': m.p50, 'p99 ms': m.p99, requests: m.requests, failed: m.failures });
    log(`${label} ×${c}: ${m.rps} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms${m.failures ? `, failed: ${JSON.stringify(m.reasons)}` : ''}`);
  };

  for (const c of CONNECTIONS) {
    record('hit', 'worker: cache hit (autocannon)', c, await cannon(worker, c, [{ method: 'GET', path: hitPath }]));
    record(
      'miss',
      'worker: miss, new query each time (autocannon)',
      c,
      await cannon(worker, c, [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/search?q=${encodeURIComponent(uniqueQuery())}&k=${K}` }) }]),
    );
  }
  for (const c of CONNECTIONS) {
    record('directLoop', 'direct: embedder + index from Node', c, await loops(c, direct));
    record('missLoop', 'worker: miss from Node (same client)', c, await loops(c, workerMiss(worker)));
    record('bareLoop', 'worker without KV and result cache: miss from Node', c, await loops(c, workerMiss(bare)));
  }

  // ---- Search API v2 -------------------------------------------------------------
  // No result cache, KV on: every request embeds from KV (or not at all) and queries the index.
  const kvOnly = (await stack.addWorker({ vars: { CACHE_TTL_SECONDS: '0' } })).url;
  const plainPath = `/v1/search?q=${encodeURIComponent('a quiet lake at dusk')}&k=${K}`;
  const combinedBody = JSON.stringify({
    parts: [
      { text: 'a quiet lake at dusk', weight: 1 },
      { text: 'a busy street', weight: -0.5 },
      { id: 'item-7', weight: 0.5 },
    ],
    k: K,
  });
  const post = { method: 'POST' as const, path: '/v1/search', headers: { 'content-type': 'application/json' }, body: combinedBody };
  const postCombined = () => fetch(`${kvOnly}/v1/search`, { method: 'POST', headers: post.headers, body: combinedBody });
  const v2Check = async (response: Response, what: string) => {
    if (response.status !== 200) throw new Error(`${what}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as { nextCursor: string | null; results: unknown[] };
  };
  await v2Check(await fetch(`${kvOnly}${plainPath}`), 'plain warm-up');
  await v2Check(await postCombined(), 'combined warm-up');
  // The parts' embeddings reach KV after the response: wait until a request makes no embedder call.
  for (let settled = false; !settled; ) {
    const before = await stack.embedderEmbedRequests();
    await v2Check(await postCombined(), 'combined warm-up');
    settled = (await stack.embedderEmbedRequests()) === before;
  }
  const cursors: string[] = [];
  for (let page = 1, cursor = ''; page < 5; page++) {
    const { nextCursor } = await v2Check(await fetch(`${worker}${plainPath}${cursor ? `&cursor=${cursor}` : ''}`), `page ${page}`);
    if (!nextCursor) throw new Error(`page ${page} has no next cursor`);
    cursors.push((cursor = nextCursor));
  }
  const page5Path = `${plainPath}&cursor=${cursors[3]}`;
  await v2Check(await fetch(`${worker}${page5Path}`), 'page 5');
  const walkTo5 = async () => {
    let cursor = '';
    for (let page = 1; page <= 5; page++) {
      const response = await fetch(`${kvOnly}${plainPath}${cursor ? `&cursor=${cursor}` : ''}`);
      if (!response.ok) throw new Error(`page ${page}: HTTP ${response.status}`);
      cursor = ((await response.json()) as { nextCursor: string }).nextCursor;
    }
  };
  const embedderCallsDuringCombined: Record<number, number> = {};
  for (const c of [1, 16]) {
    record('plainKv', 'v2: plain text query (page 1, topK 10), embedding from KV, no result cache', c, await cannon(kvOnly, c, [{ method: 'GET', path: plainPath }]));
    const before = await stack.embedderEmbedRequests();
    record('combinedKv', 'v2: combined query of 3 cached parts, no result cache', c, await cannon(kvOnly, c, [post]));
    embedderCallsDuringCombined[c] = (await stack.embedderEmbedRequests()) - before;
    record('page5Kv', 'v2: page 5 by cursor (topK 50), no result cache', c, await cannon(kvOnly, c, [{ method: 'GET', path: page5Path }]));
    record('page5Hit', 'v2: page 5 by cursor, cache hit', c, await cannon(worker, c, [{ method: 'GET', path: page5Path }]));
    record('walkTo5Kv', 'v2: pages 1 to 5 following cursors (per walk), no result cache', c, await loops(c, walkTo5));
  }
  log(`embedder calls while the combined queries ran: ${JSON.stringify(embedderCallsDuringCombined)}`);

  console.log('');
  printTable(rows);
  const overhead = CONNECTIONS.map((c) => ({
    connections: c,
    'direct p50 ms': results.directLoop![c]!.p50,
    'worker miss p50 ms': results.missLoop![c]!.p50,
    'worker adds p50 ms': round(results.missLoop![c]!.p50 - results.directLoop![c]!.p50, 3),
    'of which not KV/cache ms': round(results.bareLoop![c]!.p50 - results.directLoop![c]!.p50, 3),
    'direct req/s': results.directLoop![c]!.rps,
    'worker miss req/s': results.missLoop![c]!.rps,
  }));
  console.log('\nWhat the worker adds over calling the embedder and the index directly (same Node client):\n');
  printTable(overhead);

  const ratios = CONNECTIONS.map((c) => results.hit![c]!.rps / results.miss![c]!.rps);
  const targets = [
    target('cache hit ÷ miss throughput, best of 1/16/64 connections', round(Math.max(...ratios), 1), 20),
    target('5 ms ÷ cache-hit p99 at 1 connection (≥ 1: p99 under 5 ms)', round(5 / results.hit![1]!.p99, 2), 1),
  ];
  console.log('');
  printTargets(targets);
  const file = writeResults('worker', {
    model: MODEL_DIR ?? 'tiny (generated)',
    durationSeconds: DURATION_S,
    items: ITEMS,
    dim: stack.dim,
    k: K,
    results,
    overhead,
    hitToMissThroughput: Object.fromEntries(CONNECTIONS.map((c, i) => [c, round(ratios[i]!, 1)])),
    embedderCallsDuringCombined,
    targets,
  });
  log(`wrote ${file}`);
} finally {
  await stack.close();
}
