// Public scoring API: the SIMD addon when it is built, the identical
// TypeScript fallback otherwise.
import { addon } from './addon.ts';
import { fallbackBackend } from './fallback.ts';
import { createScoring, type Scoring } from './scoring.ts';

export type { Metric, TopKResult } from './types.ts';
export type { Scoring, ThreadOptions, TopKOptions } from './scoring.ts';

/** Both implementations, for tests and benchmarks that compare them. */
export const implementations: { native: Scoring | null; fallback: Scoring } = {
  native: addon ? createScoring(addon) : null,
  fallback: createScoring(fallbackBackend),
};

const active = implementations.native ?? implementations.fallback;

export const nativeLoaded = implementations.native !== null;
export const {
  simdLevel,
  supportedSimdLevels,
  setSimdLevel,
  l2Normalize,
  dotScores,
  cosineScores,
  topK,
  l2NormalizeAsync,
  dotScoresAsync,
  cosineScoresAsync,
  topKAsync,
} = active;
