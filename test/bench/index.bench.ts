// npm run bench:index — the Vectorize-compatible index service end to end:
// 100,000 × 512 clustered vectors inserted over HTTP into `npm run
// index:serve` (a child process), with queries sent meanwhile to time how
// long they wait behind the inserts, then queries over HTTP against exact
// search with the native scorer. Also a short usearch vs hnswlib-node
// comparison, which is how the HNSW library was chosen.
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import hnswlib from 'hnswlib-node';
import { Index, MetricKind, ScalarKind } from 'usearch';
import { nativeLoaded, simdLevel, topK } from '../../native/index.ts';
import { clusteredSpace } from '../support/clustered.ts';
import { spawnIndexServer } from '../support/index-server.ts';
import { sleep } from '../support/timing.ts';
import { printTable, writeResults } from './harness.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const DIM = Number(process.env.BENCH_DIM ?? 512);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 1000);
const K = 10;
const BATCH = 5000;
const COMPARE_ROWS = Math.min(ROWS, Number(process.env.BENCH_COMPARE_ROWS ?? 20_000));
const CATEGORIES = 500; // selective filter: 1 in 500 vectors
const TOKEN = 'bench';
const PROBE_PAUSE_MS = 20;

const log = (message: string) => console.log(`[${(performance.now() / 1000).toFixed(1)}s] ${message}`);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const round = (v: number, digits = 3) => Number(v.toFixed(digits));

function recallAt(got: ArrayLike<number>[], truth: ArrayLike<number>[]): number {
  let hits = 0;
  let total = 0;
  got.forEach((g, q) => {
    const want = new Set(Array.from(truth[q]!));
    total += want.size;
    for (const x of Array.from(g)) if (want.has(x)) hits++;
  });
  return hits / Math.max(1, total);
}

/** Exact top-k rows per query among `rows` (all rows when omitted). */
function exactTruth(data: Float32Array, queries: Float32Array, rows?: number[]): number[][] {
  const matrix = rows ? gather(data, rows) : data;
  const { indices } = topK(queries, matrix, DIM, K, { metric: 'cosine' });
  const count = queries.length / DIM;
  return Array.from({ length: count }, (_, q) => Array.from(indices.subarray(q * K, (q + 1) * K), (i) => (rows ? rows[i]! : i)));
}

function gather(data: Float32Array, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * DIM);
  rows.forEach((r, i) => out.set(data.subarray(r * DIM, (r + 1) * DIM), i * DIM));
  return out;
}

// ---- data -------------------------------------------------------------------

log(`generating ${ROWS} × ${DIM} clustered vectors and ${QUERIES} queries (native scorer: ${nativeLoaded ? simdLevel() : 'TypeScript fallback'})`);
const space = clusteredSpace(DIM, { clusters: 2000, topics: 40, seed: 42 });
const { vectors: data } = space.sample(ROWS);
const { vectors: queries } = space.sample(QUERIES);
// Six significant digits: what goes over the wire is exactly what is stored.
for (const m of [data, queries]) for (let i = 0; i < m.length; i++) m[i] = Math.fround(Number(m[i]!.toPrecision(6)));
const meta = (i: number) => ({ category: `c${i % CATEGORIES}`, bucket: i % 100 });

log('exact ground truth (native topK)');
const truth = exactTruth(data, queries);

// ---- 1. HNSW library comparison (in process, a subset) ------------------------

log(`library comparison on ${COMPARE_ROWS} vectors`);
const subset = data.subarray(0, COMPARE_ROWS * DIM);
const compareQueries = Math.min(QUERIES, 200);
const subsetTruth = exactTruth(subset, queries.subarray(0, compareQueries * DIM));
const libraryRows: Record<string, string | number>[] = [];
const CANDIDATES = K + 32; // what the service fetches for topK 10, re-scored exactly
for (const quantization of [ScalarKind.BF16, ScalarKind.F16, ScalarKind.F32, ScalarKind.I8]) {
  // The service's settings: M=24, efC=128, beam = candidates; bf16 is what it uses.
  const index = new Index({ dimensions: DIM, metric: quantization === ScalarKind.I8 ? MetricKind.Cos : MetricKind.IP, quantization, connectivity: 24, expansion_add: 128, expansion_search: 16, multi: false });
  const keys = BigUint64Array.from({ length: COMPARE_ROWS }, (_, i) => BigInt(i));
  let t = performance.now();
  index.add(keys, subset, 0);
  const build = (performance.now() - t) / 1000;
  const got: number[][] = [];
  t = performance.now();
  for (let q = 0; q < compareQueries; q++) {
    const query = queries.subarray(q * DIM, (q + 1) * DIM);
    const candidates = Array.from(index.search(query, CANDIDATES, 1).keys, Number);
    const { indices } = topK(query, gather(subset, candidates), DIM, K, { metric: 'cosine' });
    got.push(Array.from(indices, (i) => candidates[i]!));
  }
  const ms = (performance.now() - t) / compareQueries;
  libraryRows.push({ library: `usearch 2.25, ${quantization}, ${CANDIDATES} candidates re-scored (2 build threads)`, 'build s': round(build, 1), 'query ms': round(ms), 'recall@10': round(recallAt(got, subsetTruth)) });
}
{
  const index = new hnswlib.HierarchicalNSW('ip', DIM);
  index.initIndex({ maxElements: COMPARE_ROWS, m: 24, efConstruction: 128 });
  let t = performance.now();
  for (let i = 0; i < COMPARE_ROWS; i++) index.addPoint(Array.from(subset.subarray(i * DIM, (i + 1) * DIM)), i);
  const build = (performance.now() - t) / 1000;
  index.setEf(CANDIDATES);
  const got: number[][] = [];
  t = performance.now();
  for (let q = 0; q < compareQueries; q++) got.push(index.searchKnn(Array.from(queries.subarray(q * DIM, (q + 1) * DIM)), K).neighbors);
  const ms = (performance.now() - t) / compareQueries;
  libraryRows.push({ library: `hnswlib-node 3, f32, ef=${CANDIDATES} (1 build thread: no batch add)`, 'build s': round(build, 1), 'query ms': round(ms), 'recall@10': round(recallAt(got, subsetTruth)) });
}
printTable(libraryRows);

// ---- 2. the service over HTTP --------------------------------------------------

const dataDir = await mkdtemp(join(tmpdir(), 'index-bench-'));
let server = await spawnIndexServer({ INDEX_DATA_DIR: dataDir, INDEX_TOKEN: TOKEN, INDEX_LOG_LEVEL: 'info' });
const base = () => `${server.url}/accounts/bench/vectorize/v2/indexes`;
// node:http with keep-alive: the lightest client, so latencies are mostly the server's.
const agent = new Agent({ keepAlive: true, maxSockets: 8 });
/** Search time the server reported (Server-Timing) for the last query answered. */
let lastSearchMs = 0;
function api(path: string, init: { method?: string; body?: string; headers?: Record<string, string>; agent?: Agent } = {}): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base()}${path}`,
      {
        method: init.method ?? 'GET',
        agent: init.agent ?? agent,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers },
      },
      (res) => {
        const timing = /search;dur=([\d.]+)/.exec(String(res.headers['server-timing'] ?? ''));
        if (timing) lastSearchMs = Number(timing[1]);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { success: boolean; result: unknown; errors: unknown[] };
          if (body.success) resolve(body.result);
          else reject(new Error(`${path}: ${res.statusCode} ${JSON.stringify(body.errors)}`));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

try {
  await api('', { method: 'POST', body: JSON.stringify({ name: 'bench', config: { dimensions: DIM, metric: 'cosine' } }) });
  await api('/bench/metadata_index/create', { method: 'POST', body: JSON.stringify({ propertyName: 'category', indexType: 'string' }) });
  await api('/bench/metadata_index/create', { method: 'POST', body: JSON.stringify({ propertyName: 'bucket', indexType: 'number' }) });

  // Built beforehand: building a body holds this process's event loop, which would delay the
  // probe queries below and charge the server for it.
  const insertBodies: string[] = [];
  for (let start = 0; start < ROWS; start += BATCH) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(ROWS, start + BATCH); i++) {
      const values = Array.from(data.subarray(i * DIM, (i + 1) * DIM), (v) => Number(v.toPrecision(6)));
      lines.push(JSON.stringify({ id: `v${i}`, values, metadata: meta(i) }));
    }
    insertBodies.push(lines.join('\n'));
  }
  log(`inserting ${ROWS} vectors over HTTP in batches of ${BATCH}`);
  let insertSeconds = 0;
  let bytes = 0;
  const insertStarted = performance.now();
  // Queries sent while the inserts go on, one at a time with a pause between: how long a
  // query waits behind an insert that is being applied.
  const duringInsert: number[] = [];
  let inserting = true;
  // A connection of its own per probe: a probe must not take the socket the next insert goes on.
  const probeAgent = new Agent({ keepAlive: false });
  const prober = (async () => {
    for (let q = 0; inserting; q = (q + 1) % QUERIES) {
      const body = JSON.stringify({ vector: Array.from(queries.subarray(q * DIM, (q + 1) * DIM)), topK: K });
      const t = performance.now();
      await api('/bench/query', { method: 'POST', body, agent: probeAgent });
      duringInsert.push(performance.now() - t);
      await sleep(PROBE_PAUSE_MS);
    }
  })();
  for (const body of insertBodies) {
    bytes += body.length;
    const t = performance.now();
    await api('/bench/insert', { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } });
    insertSeconds += (performance.now() - t) / 1000;
  }
  const insertWall = (performance.now() - insertStarted) / 1000;
  inserting = false;
  await prober;
  duringInsert.sort((a, b) => a - b);
  const queryWhileInserting = {
    queries: duringInsert.length,
    p50: round(percentile(duringInsert, 0.5), 1),
    p99: round(percentile(duringInsert, 0.99), 1),
    max: round(duringInsert.at(-1) ?? 0, 1),
  };
  log(`queries while inserting: ${queryWhileInserting.queries}, p50 ${queryWhileInserting.p50} ms, p99 ${queryWhileInserting.p99} ms, max ${queryWhileInserting.max} ms`);
  // A bulk load triggers snapshots (every 64 MiB of log); let the last one finish.
  const count = (msg: string) => server.messages.filter((m) => m === msg).length;
  while (count('snapshot started') > count('snapshot written')) await sleep(100);
  const info = await api('/bench/info');
  if (info.vectorCount !== ROWS) throw new Error(`expected ${ROWS} vectors, index has ${info.vectorCount}`);
  log(`inserted: ${insertSeconds.toFixed(1)} s in requests (${(ROWS / insertSeconds).toFixed(0)} vectors/s), ${insertWall.toFixed(1)} s wall`);

  const queryBody = (q: number, extra: object = {}) =>
    JSON.stringify({ vector: Array.from(queries.subarray(q * DIM, (q + 1) * DIM)), topK: K, ...extra });
  const rowOf = (id: string) => Number(id.slice(1));

  /** Sequential queries: latency per request, as a client sees it. */
  async function run(label: string, extra: (q: number) => object, want: number[][] | null) {
    const bodies = Array.from({ length: QUERIES }, (_, q) => queryBody(q, extra(q)));
    for (let q = 0; q < Math.min(50, QUERIES); q++) await api('/bench/query', { method: 'POST', body: bodies[q]! }); // warm-up
    const latencies: number[] = [];
    const search: number[] = [];
    const got: number[][] = [];
    const started = performance.now();
    for (let q = 0; q < QUERIES; q++) {
      const t = performance.now();
      const result = await api('/bench/query', { method: 'POST', body: bodies[q]! });
      latencies.push(performance.now() - t);
      search.push(lastSearchMs);
      got.push(result.matches.map((m: { id: string }) => rowOf(m.id)));
    }
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const searchMean = search.reduce((a, b) => a + b, 0) / search.length;
    search.sort((a, b) => a - b);
    return {
      what: label,
      'p50 ms': round(percentile(latencies, 0.5)),
      'p99 ms': round(percentile(latencies, 0.99)),
      QPS: Math.round(QUERIES / seconds),
      'search p50 ms': round(percentile(search, 0.5)),
      'search QPS': Math.round(1000 / searchMean),
      'recall@10': want ? round(recallAt(got, want)) : 'n/a',
    };
  }

  /** The same queries with `concurrency` requests in flight. */
  async function concurrentQps(concurrency: number): Promise<number> {
    const bodies = Array.from({ length: QUERIES }, (_, q) => queryBody(q));
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < QUERIES) await api('/bench/query', { method: 'POST', body: bodies[next++]! });
      }),
    );
    return Math.round(QUERIES / ((performance.now() - started) / 1000));
  }

  log('queries over HTTP');
  const rows: Record<string, string | number>[] = [];
  // Headline numbers: best of two runs, the least disturbed on a shared machine (as harness.ts does).
  const best = <T extends { QPS: number | string }>(a: T, b: T) => (Number(a.QPS) >= Number(b.QPS) ? a : b);
  const unfiltered = () => run('HTTP query, topK 10 (HNSW + exact re-score)', () => ({}), truth);
  const http = best(await unfiltered(), await unfiltered());
  rows.push(http);
  const concurrent = await concurrentQps(4);
  rows.push({ what: 'HTTP query, topK 10, 4 in flight', 'p50 ms': '', 'p99 ms': '', QPS: concurrent, 'search p50 ms': '', 'search QPS': '', 'recall@10': '' });

  const byCategory = new Map<number, number[]>();
  for (let i = 0; i < ROWS; i++) {
    const c = i % CATEGORIES;
    if (!byCategory.has(c)) byCategory.set(c, []);
    byCategory.get(c)!.push(i);
  }
  const selectiveTruth = Array.from({ length: QUERIES }, (_, q) =>
    exactTruth(data, queries.subarray(q * DIM, (q + 1) * DIM), byCategory.get(q % CATEGORIES)!)[0]!,
  );
  rows.push(await run(`HTTP query, selective filter (1/${CATEGORIES}: exact subset scan)`, (q) => ({ filter: { category: `c${q % CATEGORIES}` } }), selectiveTruth));

  const broadRows = Array.from({ length: ROWS }, (_, i) => i).filter((i) => i % 100 < 30);
  const broadTruth = exactTruth(data, queries, broadRows);
  rows.push(await run('HTTP query, broad filter (30%: oversampled HNSW)', () => ({ filter: { bucket: { $lt: 30 } } }), broadTruth));
  rows.push(await run('HTTP query, topK 50 + returnValues + all metadata', () => ({ topK: 50, returnValues: true, returnMetadata: 'all' }), null));

  log('exact brute force in process (native topK, the baseline)');
  const exactRun = () => {
    const latencies: number[] = [];
    const count = Math.min(QUERIES, 200);
    const started = performance.now();
    for (let q = 0; q < count; q++) {
      const t = performance.now();
      topK(queries.subarray(q * DIM, (q + 1) * DIM), data, DIM, K, { metric: 'cosine' });
      latencies.push(performance.now() - t);
    }
    latencies.sort((a, b) => a - b);
    const qps = Math.round(count / ((performance.now() - started) / 1000));
    return {
      what: 'exact search, in process (native topK, cosine)',
      'p50 ms': round(percentile(latencies, 0.5)),
      'p99 ms': round(percentile(latencies, 0.99)),
      QPS: qps,
      'search p50 ms': round(percentile(latencies, 0.5)),
      'search QPS': qps,
      'recall@10': 1,
    };
  };
  const exact = best(exactRun(), exactRun());
  const exactQps = exact.QPS;
  rows.push(exact);

  log('graceful stop (snapshot) and restart');
  let t = performance.now();
  await server.stop('SIGTERM');
  const stopSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  server = await spawnIndexServer({ INDEX_DATA_DIR: dataDir, INDEX_TOKEN: TOKEN, INDEX_LOG_LEVEL: 'info' });
  const restartSeconds = (performance.now() - t) / 1000;
  const after = await run('HTTP query after restart (graph from snapshot)', () => ({}), truth);
  rows.push(after);

  console.log();
  printTable([
    { phase: `insert ${ROWS} × ${DIM} over HTTP (${BATCH}/request, WAL + fsync + HNSW build)`, seconds: round(insertSeconds, 1), 'vectors/s': Math.round(ROWS / insertSeconds), MB: Math.round(bytes / 1e6) },
    { phase: `queries while inserting (one in flight, ${PROBE_PAUSE_MS} ms apart): ${queryWhileInserting.queries}, p50 / p99 / max ms`, seconds: `${queryWhileInserting.p50} / ${queryWhileInserting.p99} / ${queryWhileInserting.max}`, 'vectors/s': '', MB: '' },
    { phase: 'graceful stop (final snapshot incl. graph)', seconds: round(stopSeconds, 1), 'vectors/s': '', MB: '' },
    { phase: 'restart (load snapshot + graph, ready)', seconds: round(restartSeconds, 1), 'vectors/s': '', MB: '' },
  ]);
  console.log();
  printTable(rows);

  // Search QPS compares like with like: the index's query work, as the server timed
  // it, against exact search in process. The HTTP ratio also charges our side the
  // round trip (client and server share the machine's cores), so it is reported too.
  const speedup = http['search QPS'] / exactQps;
  const httpSpeedup = http.QPS / exactQps;
  const checks = [
    { name: 'recall@10 (HTTP, unfiltered)', value: http['recall@10'] as number, required: '≥ 0.98', pass: (http['recall@10'] as number) >= 0.98 },
    { name: 'search QPS vs exact search (both in process)', value: round(speedup, 1), required: '≥ 10×', pass: speedup >= 10 },
    { name: 'HTTP QPS (sequential client) vs exact search in process', value: round(httpSpeedup, 1), required: '≥ 10×', pass: httpSpeedup >= 10 },
    { name: 'p99 over HTTP (ms)', value: http['p99 ms'], required: '< 10', pass: http['p99 ms'] < 10 },
  ];
  console.log();
  for (const c of checks) console.log(`${c.pass ? 'PASS' : 'MISS'}  ${c.name}: ${c.value} (target ${c.required})`);

  const file = writeResults('index', {
    rows: ROWS,
    dim: DIM,
    queries: QUERIES,
    k: K,
    nativeScorer: nativeLoaded ? simdLevel() : 'typescript',
    libraryComparison: libraryRows,
    insert: { seconds: insertSeconds, wallSeconds: insertWall, vectorsPerSecond: ROWS / insertSeconds, bytes, queryWhileInserting },
    stopSeconds,
    restartSeconds,
    queries_: rows,
    targets: checks,
  });
  console.log(`\nwrote ${file}`);
} finally {
  agent.destroy();
  await server.stop('SIGTERM');
  await rm(dataDir, { recursive: true, force: true });
}
