// Public API of native/: scoring (scoring.ts) and images (image.ts), run by the SIMD addon when it is
// built and by the TypeScript fallback otherwise. Nothing outside native/ loads the addon itself.
import { addon } from './addon.ts';
import { fallbackImaging } from './image-fallback.ts';
import { nativeImaging, type Imaging } from './image.ts';
import { fallbackBackend } from './scoring-fallback.ts';
import { createScoring, type Scoring } from './scoring.ts';

export type { JpegDeclined, JpegDecodeResult, Metric, Region, RgbImage, TopKResult } from './types.ts';
export type { Scoring, ThreadOptions, TopKOptions } from './scoring.ts';
export type { ChwPlacement, Imaging, JpegDecodeOptions, JpegResizeOptions, ResizeTarget } from './image.ts';
export type { ResampleFilter } from './pillow-coefficients.ts';

export type Implementation = Scoring & Imaging;

/** Both implementations, for tests and benchmarks that compare them. */
export const implementations: { native: Implementation | null; fallback: Implementation } = {
  native: addon ? { ...createScoring(addon), ...nativeImaging(addon) } : null,
  fallback: { ...createScoring(fallbackBackend), ...fallbackImaging },
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
  resizeRgbAsync,
  rgbToChw,
  decodeJpegRgbAsync,
  decodeJpegResizedAsync,
} = active;
