// npm run bench:native — the SIMD scan against the machine's memory bandwidth
// and against usearch, simsimd and plain TypeScript, on a matrix far larger
// than any cache. See README "Benchmarks" for how to read it.
import { availableParallelism } from 'node:os';
import { exactSearch, MetricKind } from 'usearch';
import * as simsimd from 'simsimd';
import { loadBenchAddon } from '../../native/bench/addon.ts';
import { implementations } from '../../native/index.ts';
import { bestSeconds, printTable, printTargets, target, writeResults } from './harness.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const DIM = 512;
const K = 10;
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const ALL = availableParallelism();

const native = implementations.native;
if (!native) throw new Error('bench:native needs the built addon (npm run build:native)');
const { sequentialRead } = loadBenchAddon();

function randomRows(rows: number, seed: number): Float32Array {
  const out = new Float32Array(rows * DIM);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) / 2 ** 31 - 1;
  }
  return native!.l2Normalize(out, DIM);
}

/** Top-k by a per-row score function, the way a JavaScript user would write it. */
function scanTopK(rows: number, score: (row: number) => number): number[] {
  const best: { row: number; score: number }[] = [];
  for (let r = 0; r < rows; r++) {
    const s = score(r);
    if (best.length < K || s > best[best.length - 1]!.score) {
      best.push({ row: r, score: s });
      best.sort((a, b) => b.score - a.score || a.row - b.row);
      if (best.length > K) best.pop();
    }
  }
  return best.map((b) => b.row);
}

console.log(`allocating ${ROWS} x ${DIM} float32 (${((ROWS * DIM * 4) / 1e9).toFixed(2)} GB)...`);
const matrix = randomRows(ROWS, 42);
const bytes = matrix.byteLength;
const query = randomRows(1, 7);
const gbps = (seconds: number, reads = 1) => (bytes * reads) / seconds / 1e9;
const rows: Record<string, string | number>[] = [];
const add = (what: string, threads: number, seconds: number, extra: Record<string, string | number> = {}) => {
  const row = { what, threads, ms: seconds * 1000, 'GB/s': gbps(seconds), ...extra };
  rows.push(row);
  console.log(`  ${what} (${threads} thread${threads > 1 ? 's' : ''}): ${(seconds * 1000).toFixed(1)} ms`);
  return row;
};

// Reference answer: every implementation below must return the same rows.
const expected = Array.from(native.topK(query, matrix, DIM, K).indices);
const check = (name: string, got: ArrayLike<number | bigint>) => {
  const ids = Array.from(got, Number);
  if (ids.join() !== expected.join()) throw new Error(`${name} returned ${ids} instead of ${expected}`);
};

const level = native.simdLevel();
const readSeconds = { 1: await bestSeconds(REPEATS, () => sequentialRead(matrix, 1)), all: 0 };
readSeconds.all = await bestSeconds(REPEATS, () => sequentialRead(matrix, ALL));
add('memory read (sequential, C++)', 1, readSeconds[1]);
add('memory read (sequential, C++)', ALL, readSeconds.all);

const topK1 = await bestSeconds(REPEATS, () => native.topK(query, matrix, DIM, K, { threads: 1 }));
const topKAll = await bestSeconds(REPEATS, () => native.topK(query, matrix, DIM, K, { threads: ALL }));
add(`topK k=10 (${level})`, 1, topK1, { 'of bandwidth': gbps(topK1) / gbps(readSeconds[1]) });
add(`topK k=10 (${level})`, ALL, topKAll, { 'of bandwidth': gbps(topKAll) / gbps(readSeconds.all) });

check('usearch exactSearch', (exactSearch(matrix, query, DIM, K, MetricKind.IP, 1) as { keys: BigUint64Array }).keys);
const usearch1 = await bestSeconds(REPEATS, () => exactSearch(matrix, query, DIM, K, MetricKind.IP, 1));
const usearchAll = await bestSeconds(REPEATS, () => exactSearch(matrix, query, DIM, K, MetricKind.IP, ALL));
add('usearch exactSearch', 1, usearch1, { 'of bandwidth': gbps(usearch1) / gbps(readSeconds[1]) });
add('usearch exactSearch', ALL, usearchAll, { 'of bandwidth': gbps(usearchAll) / gbps(readSeconds.all) });

const simsimdTopK = () => scanTopK(ROWS, (r) => simsimd.inner(query, matrix.subarray(r * DIM, (r + 1) * DIM)));
check('simsimd per row', simsimdTopK());
const simsimdSeconds = await bestSeconds(2, simsimdTopK);
add('simsimd.inner per row + JS top-k', 1, simsimdSeconds, { 'of bandwidth': gbps(simsimdSeconds) / gbps(readSeconds[1]) });

const tsTopK = () =>
  scanTopK(ROWS, (r) => {
    let s = 0;
    for (let i = 0, o = r * DIM; i < DIM; i++) s += query[i]! * matrix[o + i]!;
    return s;
  });
check('TypeScript loop', tsTopK());
const tsSeconds = await bestSeconds(2, tsTopK);
add('plain TypeScript loop + top-k', 1, tsSeconds, { 'of bandwidth': gbps(tsSeconds) / gbps(readSeconds[1]) });

// Batched queries: the matrix is read once per block of 64 queries.
const batched: Record<number, number> = {};
for (const q of [1, 8, 64]) {
  const queries = randomRows(q, 100 + q);
  const seconds = await bestSeconds(Math.max(2, Math.ceil(REPEATS / 2)), () => native.topK(queries, matrix, DIM, K, { threads: ALL }));
  batched[q] = q / seconds;
  add(`topK batch Q=${q}`, ALL, seconds, {
    'GFLOP/s': (2 * q * ROWS * DIM) / seconds / 1e9,
    'queries/s': q / seconds,
  });
}

console.log();
printTable(rows);
console.log();
const targets = [
  target('topK 1 query, 1 thread / single-thread read bandwidth', gbps(topK1) / gbps(readSeconds[1]), 0.9),
  target('topK 1 query, 1 thread / usearch exactSearch 1 thread', usearch1 / topK1, 1.2),
  target(`topK 1 query, ${ALL} threads / all-thread read bandwidth`, gbps(topKAll) / gbps(readSeconds.all), 0.9),
  target('per-query throughput Q=64 / Q=1', batched[64]! / batched[1]!, 8),
];
printTargets(targets);
const file = writeResults('native', { rows: ROWS, dim: DIM, k: K, simdLevel: level, results: rows, targets });
console.log(`\nwrote ${file}`);
