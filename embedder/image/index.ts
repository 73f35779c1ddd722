export { preprocess, decodeCost, DEFAULT_MAX_PIXELS } from './preprocess.ts';
export { DecodeBudget, DecodeBudgetError } from './decode-budget.ts';
export { RATIO_EXEMPT_PIXELS } from './probe.ts';
export type { DecodeReport, PreprocessOptions } from './preprocess.ts';
export { loadPreprocessConfig } from './load-config.ts';
export {
  parsePreprocessConfig,
  parseHfPreprocessorConfig,
  parseOpenClipPreprocessCfg,
  tensorShape,
  OPENAI_CLIP_MEAN,
  OPENAI_CLIP_STD,
} from './config.ts';
export type { PreprocessConfig, ResizeSpec, Rgb, Size } from './config.ts';
export type { ResampleFilter } from '../../native/index.ts';
export {
  ImageInputError,
  UnsupportedImageFormatError,
  CorruptImageError,
  ImageTooLargeError,
  ImplausibleImageError,
  PreprocessConfigError,
} from './errors.ts';
export { sniffImageFormat } from './sniff.ts';
export type { ImageFormat } from './sniff.ts';
