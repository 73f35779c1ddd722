export type Metric = 'dot' | 'cosine';

export interface TopKResult {
  /** Row indices, `queries × min(k, rows)`, best first per query. */
  indices: Uint32Array;
  /** Scores matching `indices`. */
  scores: Float32Array;
}

/**
 * What a scoring implementation provides. Arguments arrive validated;
 * `threads` 0 means "choose from the amount of work".
 */
export interface ScoringBackend {
  l2Normalize(matrix: Float32Array, dim: number, threads: number): Float32Array;
  scores(queries: Float32Array, matrix: Float32Array, dim: number, metric: Metric, threads: number): Float32Array;
  topK(queries: Float32Array, matrix: Float32Array, dim: number, k: number, metric: Metric, threads: number): TopKResult;
  l2NormalizeAsync(matrix: Float32Array, dim: number, threads: number): Promise<Float32Array>;
  scoresAsync(
    queries: Float32Array,
    matrix: Float32Array,
    dim: number,
    metric: Metric,
    threads: number,
  ): Promise<Float32Array>;
  topKAsync(
    queries: Float32Array,
    matrix: Float32Array,
    dim: number,
    k: number,
    metric: Metric,
    threads: number,
  ): Promise<TopKResult>;
  simdLevel(): string;
  supportedSimdLevels(): string[];
  setSimdLevel(level: string): boolean;
}

/** The compiled addon: a backend plus benchmark support. */
export interface NativeAddon extends ScoringBackend {
  /** XOR of the array's 64-bit words, read sequentially by `threads` threads. */
  sequentialRead(data: Float32Array, threads: number): number;
}
