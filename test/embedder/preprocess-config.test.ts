/**
 * The preprocessing config comes from the model's own file, in either published layout: Hugging Face's
 * `preprocessor_config.json` (CLIPImageProcessor) or OpenCLIP/Immich's `visual/preprocess_cfg.json`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  loadPreprocessConfig,
  OPENAI_CLIP_MEAN,
  OPENAI_CLIP_STD,
  parseHfPreprocessorConfig,
  parseOpenClipPreprocessCfg,
  PreprocessConfigError,
  tensorShape,
} from '../../embedder/image/index.ts';
import type { PreprocessConfig } from '../../embedder/image/index.ts';
import { describeWithShared } from '../support/shared-fixtures.ts';

const CLIP_B32: PreprocessConfig = {
  resize: { kind: 'shortestEdge', shortestEdge: 224 },
  resample: 'bicubic',
  centerCrop: { width: 224, height: 224 },
  rescaleFactor: 0.00392156862745098,
  normalize: { mean: OPENAI_CLIP_MEAN, std: OPENAI_CLIP_STD },
};

const scratch = mkdtempSync(join(tmpdir(), 'preprocess-config-'));
afterAll(() => rmSync(scratch, { recursive: true }));

function modelDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(scratch, 'model-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

describeWithShared('the exported fixture models', ['fixtures/exported-models'], (models) => {
  it('reads preprocessor_config.json from a Hugging Face model directory', async () => {
    expect(await loadPreprocessConfig(join(models, 'tiny-hf'))).toEqual(CLIP_B32);
  });

  it('reads visual/preprocess_cfg.json from an Immich model directory', async () => {
    const config = await loadPreprocessConfig(join(models, 'tiny-immich'));
    expect(config).toEqual({ ...CLIP_B32, rescaleFactor: 1 / 255 });
  });

  it('accepts the config file itself', async () => {
    expect(await loadPreprocessConfig(join(models, 'tiny-hf', 'preprocessor_config.json'))).toEqual(CLIP_B32);
    expect(tensorShape(await loadPreprocessConfig(join(models, 'tiny-immich', 'visual', 'preprocess_cfg.json')))).toEqual([3, 224, 224]);
  });
});

describe('Hugging Face preprocessor_config.json', () => {
  it("openai's legacy file (bare ints, no rescale keys) means the same as Xenova's dicts", () => {
    const legacy = {
      crop_size: 224,
      do_center_crop: true,
      do_normalize: true,
      do_resize: true,
      feature_extractor_type: 'CLIPFeatureExtractor',
      image_mean: OPENAI_CLIP_MEAN,
      image_std: OPENAI_CLIP_STD,
      resample: 3,
      size: 224,
    };
    expect(parseHfPreprocessorConfig(legacy)).toEqual({ ...CLIP_B32, rescaleFactor: 1 / 255 });
  });

  it('takes every value from the file', () => {
    const config = parseHfPreprocessorConfig({
      size: { shortest_edge: 256 },
      crop_size: { height: 240, width: 200 },
      resample: 2,
      rescale_factor: 0.5,
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.25, 0.25, 0.25],
    });
    expect(config).toEqual({
      resize: { kind: 'shortestEdge', shortestEdge: 256 },
      resample: 'bilinear',
      centerCrop: { width: 200, height: 240 },
      rescaleFactor: 0.5,
      normalize: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    });
    expect(tensorShape(config)).toEqual([3, 240, 200]);
  });

  it('honours the do_* switches', () => {
    const config = parseHfPreprocessorConfig({ do_resize: false, do_center_crop: false, do_rescale: false, do_normalize: false });
    expect(config).toMatchObject({ resize: null, centerCrop: null, rescaleFactor: null, normalize: null });
    expect(tensorShape(config)).toBeNull();
  });

  it('size {height, width} resizes to exactly that size', () => {
    expect(parseHfPreprocessorConfig({ size: { height: 384, width: 384 } }).resize).toEqual({ kind: 'exact', width: 384, height: 384 });
  });

  it.each([
    ['NEAREST resampling', { resample: 0 }],
    ['an unknown resample code', { resample: 9 }],
    ['a size without an edge', { size: { longest_edge: 224 } }],
    ['a negative crop', { crop_size: -1 }],
    ['a two-value mean', { image_mean: [0.5, 0.5] }],
    ['a string switch', { do_resize: 'yes' }],
  ])('rejects %s', (_name, json) => {
    expect(() => parseHfPreprocessorConfig(json)).toThrow(PreprocessConfigError);
  });
});

describe('OpenCLIP / Immich preprocess_cfg.json', () => {
  const vitB32 = {
    size: [224, 224],
    mode: 'RGB',
    mean: OPENAI_CLIP_MEAN,
    std: OPENAI_CLIP_STD,
    interpolation: 'bicubic',
    resize_mode: 'shortest',
    fill_color: 0,
  };

  it('"shortest" resizes the short side to size and crops a square of that side', () => {
    expect(parseOpenClipPreprocessCfg(vitB32)).toEqual({ ...CLIP_B32, rescaleFactor: 1 / 255 });
    expect(parseOpenClipPreprocessCfg({ ...vitB32, size: 336 }).centerCrop).toEqual({ width: 336, height: 336 });
  });

  it('"squash" resizes to exactly size, SigLIP-style', () => {
    const config = parseOpenClipPreprocessCfg({ ...vitB32, size: 256, resize_mode: 'squash', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(config.resize).toEqual({ kind: 'exact', width: 256, height: 256 });
    expect(config.centerCrop).toBeNull();
    expect(tensorShape(config)).toEqual([3, 256, 256]);
  });

  it('bilinear interpolation', () => {
    expect(parseOpenClipPreprocessCfg({ ...vitB32, interpolation: 'bilinear' }).resample).toBe('bilinear');
  });

  it.each([
    ['letterboxing ("longest")', { resize_mode: 'longest' }],
    ['a non-RGB mode', { mode: 'L' }],
    ['a non-square "shortest" size', { size: [224, 256] }],
    ['an unknown interpolation', { interpolation: 'random' }],
  ])('rejects %s', (_name, change) => {
    expect(() => parseOpenClipPreprocessCfg({ ...vitB32, ...change })).toThrow(PreprocessConfigError);
  });
});

describe('loadPreprocessConfig', () => {
  it('prefers preprocessor_config.json, then visual/preprocess_cfg.json', async () => {
    const dir = modelDir({ 'visual/preprocess_cfg.json': { size: 336 } });
    expect((await loadPreprocessConfig(dir)).centerCrop).toEqual({ width: 336, height: 336 });
  });

  it('says where it looked when there is no config', async () => {
    const dir = modelDir({ 'config.json': {} });
    await expect(loadPreprocessConfig(dir)).rejects.toThrow(/preprocessor_config\.json.*preprocess_cfg\.json/);
  });

  it('reports invalid JSON and missing paths as PreprocessConfigError', async () => {
    const dir = modelDir({ 'preprocessor_config.json': '{ not json' });
    await expect(loadPreprocessConfig(dir)).rejects.toBeInstanceOf(PreprocessConfigError);
    await expect(loadPreprocessConfig(join(dir, 'missing'))).rejects.toBeInstanceOf(PreprocessConfigError);
  });
});
