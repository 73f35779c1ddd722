// The public scoring API over any backend: validation, defaults, naming.
import type { Metric, ScoringBackend, TopKResult } from './types.ts';
import { assertFloat32Array, assertPositiveInteger, rowCount, threadCount } from './validate.ts';

export interface ThreadOptions {
  /** Threads to split the rows over; default: chosen from the amount of work. */
  threads?: number;
}

export interface TopKOptions extends ThreadOptions {
  /** 'dot' (default) assumes normalised rows; 'cosine' normalises on the fly. */
  metric?: Metric;
}

export interface Scoring {
  /** Name of the kernel level in use ('avx512', 'avx2', 'sse', 'neon', 'scalar' or 'typescript'). */
  simdLevel(): string;
  supportedSimdLevels(): string[];
  /** Switches to another supported level (tests and benchmarks); false if unsupported. */
  setSimdLevel(level: string): boolean;
  l2Normalize(matrix: Float32Array, dim: number, options?: ThreadOptions): Float32Array;
  dotScores(queries: Float32Array, matrix: Float32Array, dim: number, options?: ThreadOptions): Float32Array;
  cosineScores(queries: Float32Array, matrix: Float32Array, dim: number, options?: ThreadOptions): Float32Array;
  topK(queries: Float32Array, matrix: Float32Array, dim: number, k: number, options?: TopKOptions): TopKResult;
  l2NormalizeAsync(matrix: Float32Array, dim: number, options?: ThreadOptions): Promise<Float32Array>;
  dotScoresAsync(queries: Float32Array, matrix: Float32Array, dim: number, options?: ThreadOptions): Promise<Float32Array>;
  cosineScoresAsync(
    queries: Float32Array,
    matrix: Float32Array,
    dim: number,
    options?: ThreadOptions,
  ): Promise<Float32Array>;
  topKAsync(
    queries: Float32Array,
    matrix: Float32Array,
    dim: number,
    k: number,
    options?: TopKOptions,
  ): Promise<TopKResult>;
}

function checkMatrix(matrix: unknown, dim: unknown): asserts matrix is Float32Array {
  assertFloat32Array(matrix, 'matrix');
  assertPositiveInteger(dim, 'dim');
  rowCount(matrix, dim, 'matrix');
}

function checkScan(queries: unknown, matrix: unknown, dim: unknown): asserts queries is Float32Array {
  assertFloat32Array(queries, 'queries');
  checkMatrix(matrix, dim);
  rowCount(queries, dim as number, 'queries');
}

function checkMetric(metric: unknown): Metric {
  if (metric === undefined) return 'dot';
  if (metric !== 'dot' && metric !== 'cosine') throw new TypeError(`metric must be 'dot' or 'cosine' (got ${String(metric)})`);
  return metric;
}

// Promise-returning twins report argument errors as rejections, like any async API.
const rejecting =
  <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
  (...args: A): Promise<R> => {
    try {
      return fn(...args);
    } catch (error) {
      return Promise.reject(error);
    }
  };

export function createScoring(backend: ScoringBackend): Scoring {
  const scoresWith =
    (metric: Metric) =>
    (queries: Float32Array, matrix: Float32Array, dim: number, options?: ThreadOptions): Float32Array => {
      checkScan(queries, matrix, dim);
      return backend.scores(queries, matrix, dim, metric, threadCount(options?.threads));
    };
  const scoresAsyncWith = (metric: Metric) =>
    rejecting((queries: Float32Array, matrix: Float32Array, dim: number, options?: ThreadOptions) => {
      checkScan(queries, matrix, dim);
      return backend.scoresAsync(queries, matrix, dim, metric, threadCount(options?.threads));
    });

  return {
    simdLevel: () => backend.simdLevel(),
    supportedSimdLevels: () => backend.supportedSimdLevels(),
    setSimdLevel: (level) => backend.setSimdLevel(level),
    l2Normalize(matrix, dim, options) {
      checkMatrix(matrix, dim);
      return backend.l2Normalize(matrix, dim, threadCount(options?.threads));
    },
    dotScores: scoresWith('dot'),
    cosineScores: scoresWith('cosine'),
    topK(queries, matrix, dim, k, options) {
      checkScan(queries, matrix, dim);
      assertPositiveInteger(k, 'k');
      return backend.topK(queries, matrix, dim, k, checkMetric(options?.metric), threadCount(options?.threads));
    },
    l2NormalizeAsync: rejecting((matrix: Float32Array, dim: number, options?: ThreadOptions) => {
      checkMatrix(matrix, dim);
      return backend.l2NormalizeAsync(matrix, dim, threadCount(options?.threads));
    }),
    dotScoresAsync: scoresAsyncWith('dot'),
    cosineScoresAsync: scoresAsyncWith('cosine'),
    topKAsync: rejecting((queries: Float32Array, matrix: Float32Array, dim: number, k: number, options?: TopKOptions) => {
      checkScan(queries, matrix, dim);
      assertPositiveInteger(k, 'k');
      return backend.topKAsync(queries, matrix, dim, k, checkMetric(options?.metric), threadCount(options?.threads));
    }),
  };
}
