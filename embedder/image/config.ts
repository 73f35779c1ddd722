import type { ResampleFilter } from '../../native/index.ts';
import { PreprocessConfigError } from './errors.ts';

export type Rgb = readonly [number, number, number];

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** `shortestEdge`: scale so the short side has this length, long side truncated. `exact`: squash to the size. */
export type ResizeSpec =
  | { readonly kind: 'shortestEdge'; readonly shortestEdge: number }
  | ({ readonly kind: 'exact' } & Size);

/** The preprocessing a model expects; every field comes from the model's own config file. */
export interface PreprocessConfig {
  /** null: no resize (`do_resize: false`). */
  readonly resize: ResizeSpec | null;
  readonly resample: ResampleFilter;
  /** null: no centre crop. Larger than the resized image: padded with zeros, as transformers does. */
  readonly centerCrop: Size | null;
  /** null: pixels stay 0..255 (`do_rescale: false`). */
  readonly rescaleFactor: number | null;
  /** null: no normalisation (`do_normalize: false`). */
  readonly normalize: { readonly mean: Rgb; readonly std: Rgb } | null;
}

export const OPENAI_CLIP_MEAN: Rgb = [0.48145466, 0.4578275, 0.40821073];
export const OPENAI_CLIP_STD: Rgb = [0.26862954, 0.26130258, 0.27577711];

type Json = Record<string, unknown>;

function fail(file: string, message: string): never {
  throw new PreprocessConfigError(`${file}: ${message}`);
}

function positiveInt(value: unknown, file: string, key: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    fail(file, `${key} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function bool(json: Json, key: string, fallback: boolean, file: string): boolean {
  const value = json[key] ?? fallback;
  if (typeof value !== 'boolean') fail(file, `${key} must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

function rgb(value: unknown, file: string, key: string): Rgb {
  if (typeof value === 'number') return [value, value, value];
  const numbers = Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (!numbers || value.length !== 3) {
    fail(file, `${key} must be 3 numbers, got ${JSON.stringify(value)}`);
  }
  return [value[0], value[1], value[2]];
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const HF = 'preprocessor_config.json';
const OPEN_CLIP = 'preprocess_cfg.json';

/** PIL's resampling enum as transformers stores it. NEAREST (0) is a different code path in Pillow. */
const PIL_RESAMPLE: Record<number, ResampleFilter> = {
  1: 'lanczos',
  2: 'bilinear',
  3: 'bicubic',
  4: 'box',
  5: 'hamming',
};

function hfSize(value: unknown, file: string): ResizeSpec {
  // CLIPImageProcessor: a bare int is the shortest edge (get_size_dict(default_to_square=False)).
  if (typeof value === 'number') return { kind: 'shortestEdge', shortestEdge: positiveInt(value, file, 'size') };
  if (isObject(value) && 'shortest_edge' in value) {
    return { kind: 'shortestEdge', shortestEdge: positiveInt(value['shortest_edge'], file, 'size.shortest_edge') };
  }
  if (isObject(value) && 'height' in value && 'width' in value) {
    return {
      kind: 'exact',
      width: positiveInt(value['width'], file, 'size.width'),
      height: positiveInt(value['height'], file, 'size.height'),
    };
  }
  fail(file, `size must be an int, {shortest_edge} or {height, width}, got ${JSON.stringify(value)}`);
}

/** SiglipImageProcessor resizes to `size` {height, width} (transformers fails on anything else). */
function siglipSize(value: unknown, file: string): ResizeSpec {
  const size = hfSize(value, file);
  if (size.kind !== 'exact') fail(file, `SiglipImageProcessor resizes to size {height, width}, got ${JSON.stringify(value)}`);
  return size;
}

function hfCropSize(value: unknown, file: string): Size {
  if (typeof value === 'number') {
    const side = positiveInt(value, file, 'crop_size');
    return { width: side, height: side };
  }
  if (isObject(value)) {
    return {
      width: positiveInt(value['width'], file, 'crop_size.width'),
      height: positiveInt(value['height'], file, 'crop_size.height'),
    };
  }
  fail(file, `crop_size must be an int or {height, width}, got ${JSON.stringify(value)}`);
}

/** SiglipImageProcessor's defaults: straight to 224 × 224 (no crop), mean = std = 0.5. */
const SIGLIP_DEFAULTS = { size: { height: 224, width: 224 }, doCenterCrop: false, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } as const;
const CLIP_DEFAULTS = { size: 224, doCenterCrop: true, mean: OPENAI_CLIP_MEAN, std: OPENAI_CLIP_STD } as const;

/**
 * Hugging Face `preprocessor_config.json`: CLIPImageProcessor, or SiglipImageProcessor (SigLIP and the
 * fixed-resolution SigLIP 2), which resizes straight to `size` {height, width} and has no crop step.
 * Missing keys take the named processor's defaults (Python's, not transformers.js's): CLIP's resize to
 * shortest edge 224 bicubic, crop 224, rescale 1/255, OpenAI mean/std; SigLIP's resize to 224 × 224
 * bicubic, rescale 1/255, mean = std = 0.5. `do_convert_rgb` is ignored: the output is always RGB.
 */
export function parseHfPreprocessorConfig(json: unknown, file = HF): PreprocessConfig {
  if (!isObject(json)) fail(file, 'not a JSON object');
  const siglip = json['image_processor_type'] === 'SiglipImageProcessor';
  const defaults = siglip ? SIGLIP_DEFAULTS : CLIP_DEFAULTS;
  if (siglip && json['do_center_crop'] === true) fail(file, 'SiglipImageProcessor has no centre crop (do_center_crop: true)');
  const resampleCode = json['resample'] ?? 3;
  const resample = typeof resampleCode === 'number' ? PIL_RESAMPLE[resampleCode] : undefined;
  if (!resample) fail(file, `resample ${JSON.stringify(resampleCode)} is not supported (1..5; NEAREST=0 is not)`);
  const rescaleFactor = json['rescale_factor'] ?? 1 / 255;
  if (typeof rescaleFactor !== 'number' || !Number.isFinite(rescaleFactor)) {
    fail(file, `rescale_factor must be a number, got ${JSON.stringify(rescaleFactor)}`);
  }
  return {
    resize: bool(json, 'do_resize', true, file) ? (siglip ? siglipSize : hfSize)(json['size'] ?? defaults.size, file) : null,
    resample,
    centerCrop: bool(json, 'do_center_crop', defaults.doCenterCrop, file) ? hfCropSize(json['crop_size'] ?? 224, file) : null,
    rescaleFactor: bool(json, 'do_rescale', true, file) ? rescaleFactor : null,
    normalize: bool(json, 'do_normalize', true, file)
      ? {
          mean: rgb(json['image_mean'] ?? defaults.mean, file, 'image_mean'),
          std: rgb(json['image_std'] ?? defaults.std, file, 'image_std'),
        }
      : null,
  };
}

const OPEN_CLIP_INTERPOLATION: Record<string, ResampleFilter> = { bicubic: 'bicubic', bilinear: 'bilinear' };

/**
 * OpenCLIP / Immich `visual/preprocess_cfg.json`. `shortest` (the default) resizes the short side to
 * `size` and centre-crops a square of that side, as Immich does; `squash` resizes to exactly `size`.
 * `longest` (letterbox with `fill_color`) is not supported.
 */
export function parseOpenClipPreprocessCfg(json: unknown, file = OPEN_CLIP): PreprocessConfig {
  if (!isObject(json)) fail(file, 'not a JSON object');
  const size = json['size'];
  const [height, width] = Array.isArray(size) && size.length === 2 ? size : [size, size];
  const side = { width: positiveInt(width, file, 'size'), height: positiveInt(height, file, 'size') };
  const mode = json['mode'] ?? 'RGB';
  if (mode !== 'RGB') fail(file, `mode ${JSON.stringify(mode)} is not supported (RGB only)`);
  const interpolation = json['interpolation'] ?? 'bicubic';
  const resample = typeof interpolation === 'string' ? OPEN_CLIP_INTERPOLATION[interpolation] : undefined;
  if (!resample) fail(file, `interpolation ${JSON.stringify(interpolation)} is not supported`);
  const normalize = {
    mean: rgb(json['mean'] ?? OPENAI_CLIP_MEAN, file, 'mean'),
    std: rgb(json['std'] ?? OPENAI_CLIP_STD, file, 'std'),
  };
  const resizeMode = json['resize_mode'] ?? 'shortest';
  if (resizeMode === 'squash') {
    return { resize: { kind: 'exact', ...side }, resample, centerCrop: null, rescaleFactor: 1 / 255, normalize };
  }
  if (resizeMode !== 'shortest')
    fail(
      file,
      `resize_mode ${JSON.stringify(resizeMode)} is not supported: "shortest" (short side to size, centre crop) and ` +
        `"squash" (straight to size, as open_clip's SigLIPs) are; "longest" (letterboxing) is not`,
    );
  if (side.width !== side.height) fail(file, `resize_mode "shortest" needs a square size, got ${JSON.stringify(size)}`);
  return {
    resize: { kind: 'shortestEdge', shortestEdge: side.width },
    resample,
    centerCrop: side,
    rescaleFactor: 1 / 255,
    normalize,
  };
}

/** Either layout, told apart by file name or, failing that, by its keys. */
export function parsePreprocessConfig(json: unknown, file: string): PreprocessConfig {
  if (file.endsWith(OPEN_CLIP)) return parseOpenClipPreprocessCfg(json, file);
  if (file.endsWith(HF)) return parseHfPreprocessorConfig(json, file);
  if (isObject(json) && ('mean' in json || 'interpolation' in json || 'resize_mode' in json)) {
    return parseOpenClipPreprocessCfg(json, file);
  }
  return parseHfPreprocessorConfig(json, file);
}

/** The tensor's [channels, height, width], when it does not depend on the input image. */
export function tensorShape(config: PreprocessConfig): readonly [3, number, number] | null {
  if (config.centerCrop) return [3, config.centerCrop.height, config.centerCrop.width];
  if (config.resize?.kind === 'exact') return [3, config.resize.height, config.resize.width];
  return null;
}
