// npm run bench:index-scale — where the local index stops on one machine:
// 1,000,000 × 512 clustered vectors (BENCH_VECTORS to change) upserted over
// HTTP into `npm run index:serve` (a child process with its own data
// directory), in NDJSON requests of the most vectors the index accepts. It
// reports the insert rate as the index grows, the server's RSS
// (/proc/<pid>/status), the time and size of a snapshot, the time to restart
// after kill -9 (snapshot + log replay) and after a clean stop (snapshot
// only), and query latency and recall@10 against exact search (native topK)
// before and after the restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { LIMITS } from '../../index/limits.ts';
import { nativeLoaded, simdLevel, topK } from '../../native/index.ts';
import { clusteredSpace } from '../support/clustered.ts';
import { sleep } from '../support/timing.ts';
import { printTable, writeResults } from './harness.ts';

const VECTORS = Number(process.env.BENCH_VECTORS ?? 1_000_000);
const DIM = Number(process.env.BENCH_DIM ?? 512);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 300);
const K = 10;
const BATCH = LIMITS.maxBatch;
/** Insert rate is reported over the first and the last this many vectors. */
const WINDOW = Math.min(100_000, Math.max(BATCH, Math.floor(VECTORS / 5 / BATCH) * BATCH));
const TOKEN = 'bench';
const INDEX = 'scale';

const dataDir = await mkdtemp(join(tmpdir(), 'index-scale-'));
const log = (message: string) => console.log(`[${(performance.now() / 1000).toFixed(1)}s] ${message}`);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const round = (v: number, digits = 3) => Number(v.toFixed(digits));
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

// ---- data -------------------------------------------------------------------

log(`generating ${VECTORS} × ${DIM} clustered vectors and ${QUERIES} queries (native scorer: ${nativeLoaded ? simdLevel() : 'TypeScript fallback'})`);
const space = clusteredSpace(DIM, { clusters: Math.max(100, Math.round(VECTORS / 500)), seed: 7 });
const data = space.sample(VECTORS).vectors;
const queries = space.sample(QUERIES).vectors;
// Every value on a 1e-6 grid: its shortest decimal form is short on the wire, and
// the float32 the server stores is exactly the one scored here.
const grid = (v: number) => Math.round(v * 1e6) / 1e6;
for (const m of [data, queries]) for (let i = 0; i < m.length; i++) m[i] = grid(m[i]!);
/** Metadata of the size a search collection carries: a category, a number, an image URL. */
const metadata = (i: number) => ({ category: `c${i % 500}`, bucket: i % 100, url: `https://images.example.com/items/${String(i).padStart(9, '0')}.jpg` });

function ndjsonBatch(start: number, end: number): string {
  const lines: string[] = [];
  for (let i = start; i < end; i++) {
    let values = '';
    for (let j = i * DIM; j < (i + 1) * DIM; j++) values += (j === i * DIM ? '' : ',') + grid(data[j]!);
    lines.push(`{"id":"v${i}","values":[${values}],"metadata":${JSON.stringify(metadata(i))}}`);
  }
  return lines.join('\n');
}

log('exact ground truth (native topK over every vector)');
const truthStarted = performance.now();
const exact = topK(queries, data, DIM, K, { metric: 'cosine' });
const truth = Array.from({ length: QUERIES }, (_, q) => Array.from(exact.indices.subarray(q * K, (q + 1) * K)));
const exactMsPerQuery = (performance.now() - truthStarted) / QUERIES;

// ---- the server process --------------------------------------------------------

interface LogEntry {
  msg?: string;
  url?: string;
  [field: string]: unknown;
}

interface Server {
  child: ChildProcess;
  url: string;
  /** Every log line so far. */
  entries: LogEntry[];
  /** Seconds from spawn to ready (every index loaded, listening). */
  startSeconds: number;
  stop(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Runs index/main.ts, as `npm run index:serve` does, and resolves once it logs its URL,
 * which it does after loading every index. (Like spawnIndexServer in test/support, but
 * keeping whole log lines and with no limit on the time a large index takes to load.)
 */
async function startServer(): Promise<Server> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'index/main.ts'], {
    cwd: new URL('../../', import.meta.url).pathname,
    env: { ...process.env, INDEX_PORT: '0', INDEX_LOG_LEVEL: 'info', INDEX_DATA_DIR: dataDir, INDEX_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const exited = new Promise<void>((resolve) => child.once('close', () => (process.off('exit', reap), resolve())));
  const entries: LogEntry[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    child.once('close', (code) => reject(new Error(`index server exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: LogEntry;
      try {
        entry = JSON.parse(line) as LogEntry;
      } catch {
        return; // not a log line
      }
      entries.push(entry);
      if (Number(entry.level) >= 40) console.warn(line);
      if (entry.url) resolve(entry.url);
    });
  });
  return {
    child,
    url,
    entries,
    startSeconds: (performance.now() - started) / 1000,
    async stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** VmRSS and VmHWM (peak) of a process, in bytes. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

const indexDir = join(dataDir, 'indexes', INDEX);

async function filesOnDisk(): Promise<{ snapshot: number; graph: number; wal: number }> {
  const sizes = { snapshot: 0, graph: 0, wal: 0 };
  for (const f of await readdir(indexDir)) {
    const kind = /^(snapshot|graph|wal)-\d+\./.exec(f)?.[1] as keyof typeof sizes | undefined;
    if (kind) sizes[kind] += (await stat(join(indexDir, f))).size;
  }
  return sizes;
}

let server = await startServer();
// Keep-alive for queries only: an upload's next body takes seconds to build, long enough for
// the server to close an idle connection just as the client picks it for the next request.
const agent = new Agent({ keepAlive: true, maxSockets: 4 });
const uploadAgent = new Agent({ keepAlive: false });
const base = () => `${server.url}/accounts/bench/vectorize/v2/indexes`;

function api(path: string, body?: string, contentType = 'application/json'): Promise<any> {
  const upload = contentType === 'application/x-ndjson';
  return new Promise((resolve, reject) => {
    const req = request(
      `${base()}${path}`,
      { method: body === undefined ? 'GET' : 'POST', agent: upload ? uploadAgent : agent, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': contentType } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { success: boolean; result: unknown; errors: unknown[] };
          if (parsed.success) resolve(parsed.result);
          else reject(new Error(`${path}: ${res.statusCode} ${JSON.stringify(parsed.errors)}`));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Samples the server's memory every second; `peak` is the highest RSS seen since the last reset. */
const sampler = {
  peak: 0,
  samples: [] as { s: number; vectors: number; rssMiB: number }[],
  vectors: 0,
  timer: undefined as NodeJS.Timeout | undefined,
  start() {
    this.timer = setInterval(() => {
      try {
        const { rss } = memoryOf(server.child.pid!);
        this.peak = Math.max(this.peak, rss);
        this.samples.push({ s: round(performance.now() / 1000, 1), vectors: this.vectors, rssMiB: mb(rss) });
      } catch {
        // between processes
      }
    }, 1000);
  },
  stop() {
    clearInterval(this.timer);
  },
};

const snapshotsWritten = () => server.entries.filter((e) => e.msg === 'snapshot written');
const snapshotsPending = () => server.entries.filter((e) => e.msg === 'snapshot started').length - snapshotsWritten().length;
/** What the last start reported of its recovery. */
const loaded = () => server.entries.find((e) => e.msg === 'index loaded') ?? {};

async function runQueries(): Promise<{ p50: number; p99: number; recall: number }> {
  const bodies = Array.from({ length: QUERIES }, (_, q) => JSON.stringify({ vector: Array.from(queries.subarray(q * DIM, (q + 1) * DIM)), topK: K }));
  for (let q = 0; q < Math.min(20, QUERIES); q++) await api(`/${INDEX}/query`, bodies[q]!); // warm-up
  const latencies: number[] = [];
  let hits = 0;
  for (let q = 0; q < QUERIES; q++) {
    const t = performance.now();
    const result = (await api(`/${INDEX}/query`, bodies[q]!)) as { matches: { id: string }[] };
    latencies.push(performance.now() - t);
    const want = new Set(truth[q]);
    for (const m of result.matches) if (want.has(Number(m.id.slice(1)))) hits++;
  }
  latencies.sort((a, b) => a - b);
  return { p50: round(percentile(latencies, 0.5)), p99: round(percentile(latencies, 0.99)), recall: round(hits / (QUERIES * K)) };
}

try {
  sampler.start();
  await api('', JSON.stringify({ name: INDEX, config: { dimensions: DIM, metric: 'cosine' } }));
  await api(`/${INDEX}/metadata_index/create`, JSON.stringify({ propertyName: 'category', indexType: 'string' }));

  log(`upserting ${VECTORS} vectors over HTTP, ${BATCH} per request`);
  const progress: { vectors: number; s: number }[] = [{ vectors: 0, s: 0 }];
  const insertStarted = performance.now();
  let bytes = 0;
  /** The longest upsert request (ms): a snapshot that blocks the server shows here. */
  let slowest = 0;
  let body = ndjsonBatch(0, Math.min(VECTORS, BATCH));
  for (let start = 0; start < VECTORS; start += BATCH) {
    const end = Math.min(VECTORS, start + BATCH);
    bytes += body.length;
    const sentAt = performance.now();
    const sent = api(`/${INDEX}/upsert`, body, 'application/x-ndjson').then(() => (slowest = Math.max(slowest, performance.now() - sentAt)));
    // The next body is built while the server works on this one.
    body = end < VECTORS ? ndjsonBatch(end, Math.min(VECTORS, end + BATCH)) : '';
    await sent;
    sampler.vectors = end;
    progress.push({ vectors: end, s: (performance.now() - insertStarted) / 1000 });
    if (end % 100_000 === 0 || end === VECTORS)
      log(`${end} vectors, ${Math.round(end / progress.at(-1)!.s)}/s overall, RSS ${mb(memoryOf(server.child.pid!).rss)} MiB, snapshots ${snapshotsWritten().length}`);
  }
  const insertSeconds = progress.at(-1)!.s;
  const rateBetween = (from: number, to: number) => {
    const a = progress.find((p) => p.vectors >= from)!;
    const b = progress.find((p) => p.vectors >= to)!;
    return Math.round((b.vectors - a.vectors) / (b.s - a.s));
  };
  const firstRate = rateBetween(0, WINDOW);
  const lastRate = rateBetween(VECTORS - WINDOW, VECTORS);
  const loadPeak = sampler.peak;
  while (snapshotsPending() > 0) await sleep(200);
  const info = (await api(`/${INDEX}/info`)) as { vectorCount: number };
  if (info.vectorCount !== VECTORS) throw new Error(`expected ${VECTORS} vectors, the index has ${info.vectorCount}`);
  const afterLoad = memoryOf(server.child.pid!);
  const autoSnapshots = snapshotsWritten().map((e) => ({ vectors: Number(e.vectors), ms: Number(e.ms) }));
  log(`loaded in ${insertSeconds.toFixed(0)} s; ${autoSnapshots.length} snapshots during the load; RSS ${mb(afterLoad.rss)} MiB, peak ${mb(loadPeak)} MiB`);

  log('queries');
  const before = await runQueries();

  // kill -9: the next start loads the last snapshot and replays the log after it.
  const walAtKill = (await filesOnDisk()).wal;
  await server.stop('SIGKILL');
  sampler.peak = 0;
  server = await startServer();
  // Everything after the last snapshot's cut is replayed from the log.
  const killRestart = {
    seconds: server.startSeconds,
    walBytes: walAtKill,
    replayedVectors: VECTORS - (autoSnapshots.at(-1)?.vectors ?? 0),
    recovery: loaded(),
    rss: memoryOf(server.child.pid!),
  };
  log(`restart after kill -9: ${killRestart.seconds.toFixed(1)} s (${killRestart.replayedVectors} vectors replayed from the log)`);

  // A clean stop snapshots everything; the next start replays nothing.
  // Write a little first, so the final snapshot has something to cover.
  await api(`/${INDEX}/upsert`, ndjsonBatch(0, BATCH), 'application/x-ndjson');
  const stopStarted = performance.now();
  await server.stop('SIGTERM');
  const stopSeconds = (performance.now() - stopStarted) / 1000;
  // Its log is read to the end once it has exited.
  const snapshotMs = Number(snapshotsWritten().at(-1)?.ms);
  const disk = await filesOnDisk();
  log(`clean stop: ${stopSeconds.toFixed(1)} s (snapshot ${(snapshotMs / 1000).toFixed(1)} s); on disk: snapshot ${mb(disk.snapshot)} MiB, graph ${mb(disk.graph)} MiB`);

  sampler.peak = 0;
  server = await startServer();
  const cleanRestart = { seconds: server.startSeconds, recovery: loaded(), rss: memoryOf(server.child.pid!) };
  log(`restart after a clean stop: ${cleanRestart.seconds.toFixed(1)} s`);
  const after = await runQueries();
  const afterQueries = memoryOf(server.child.pid!);
  sampler.stop();

  const rawBytes = VECTORS * DIM * 4;
  const rows: Record<string, string | number>[] = [
    { what: `upsert ${VECTORS} × ${DIM} over HTTP (${BATCH} per request)`, value: Math.round(VECTORS / insertSeconds), unit: 'vectors/s', note: `${round(insertSeconds / 60, 1)} min, ${mb(bytes)} MiB of NDJSON` },
    { what: `  first ${WINDOW}`, value: firstRate, unit: 'vectors/s', note: '' },
    { what: `  last ${WINDOW}`, value: lastRate, unit: 'vectors/s', note: '' },
    { what: 'snapshots during the load', value: autoSnapshots.length, unit: '', note: `${round(autoSnapshots.reduce((n, a) => n + a.ms, 0) / 1000, 1)} s in all; slowest upsert request ${round(slowest / 1000, 1)} s` },
    { what: 'server RSS after the load', value: mb(afterLoad.rss), unit: 'MiB', note: `raw vectors ${mb(rawBytes)} MiB` },
    { what: 'server peak RSS during the load', value: mb(Math.max(loadPeak, afterLoad.hwm)), unit: 'MiB', note: 'VmHWM' },
    { what: 'snapshot on disk', value: mb(disk.snapshot), unit: 'MiB', note: 'vectors + records' },
    { what: 'HNSW graph on disk', value: mb(disk.graph), unit: 'MiB', note: 'usearch, bf16' },
    { what: 'snapshot time (clean stop)', value: round(snapshotMs / 1000, 1), unit: 's', note: `stop took ${round(stopSeconds, 1)} s` },
    { what: 'restart after kill -9, to ready', value: round(killRestart.seconds, 1), unit: 's', note: `${String(killRestart.recovery.replayedMutations)} logged writes (${killRestart.replayedVectors} vectors, ${mb(killRestart.walBytes)} MiB) replayed` },
    { what: 'restart after a clean stop, to ready', value: round(cleanRestart.seconds, 1), unit: 's', note: `peak RSS ${mb(cleanRestart.rss.hwm)} MiB` },
    { what: 'query p50 / p99 (topK 10, HTTP)', value: `${before.p50} / ${before.p99}`, unit: 'ms', note: `recall@10 ${before.recall}` },
    { what: 'query p50 / p99 after the restart', value: `${after.p50} / ${after.p99}`, unit: 'ms', note: `recall@10 ${after.recall}; RSS ${mb(afterQueries.rss)} MiB` },
    { what: 'exact search in process (native topK)', value: round(exactMsPerQuery, 1), unit: 'ms/query', note: `${QUERIES} queries in one batch` },
  ];
  console.log();
  printTable(rows);

  const file = writeResults('index-scale', {
    vectors: VECTORS,
    dim: DIM,
    queries: QUERIES,
    k: K,
    batch: BATCH,
    nativeScorer: nativeLoaded ? simdLevel() : 'typescript',
    insert: { seconds: insertSeconds, slowestRequestMs: slowest, vectorsPerSecond: VECTORS / insertSeconds, firstWindow: { vectors: WINDOW, perSecond: firstRate }, lastWindow: { vectors: WINDOW, perSecond: lastRate }, ndjsonBytes: bytes },
    autoSnapshots,
    memory: { afterLoadBytes: afterLoad.rss, loadPeakBytes: Math.max(loadPeak, afterLoad.hwm), afterRestartBytes: cleanRestart.rss.rss, restartPeakBytes: cleanRestart.rss.hwm, afterQueriesBytes: afterQueries.rss, rawVectorBytes: rawBytes },
    disk,
    snapshotMs,
    stopSeconds,
    killRestart: { ...killRestart, rss: killRestart.rss.rss, peakRss: killRestart.rss.hwm },
    cleanRestartSeconds: cleanRestart.seconds,
    queriesBefore: before,
    queriesAfterRestart: after,
    exactMsPerQuery,
    rssSamples: sampler.samples,
    table: rows,
  });
  console.log(`\nwrote ${file}`);
} finally {
  sampler.stop();
  agent.destroy();
  await server.stop('SIGTERM');
  await rm(dataDir, { recursive: true, force: true });
}

