/**
 * SigLIP's preprocessing (SiglipImageProcessor: resize straight to the square input, no crop, mean = std
 * = 0.5) gives exactly the tensors Pillow gives. The digests in test/fixtures/families/direct-resize.json
 * were computed from these files by Debian 12's python3-pil 9.4.0 and numpy 1.24.2
 * (embedder/model-gen/families/pillow_direct_resize.py): baseline, EXIF-rotated and progressive 4:4:4
 * JPEGs (the native decoder's path), RGBA, grey and palette PNGs, an image already at the size, one 3
 * pixels wide; bicubic, bilinear and Lanczos; downscaled and upscaled.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHfPreprocessorConfig, preprocess, tensorShape } from '../../embedder/image/index.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'families');

interface Case {
  file: string;
  size: number;
  resample: number;
  sha256: string;
}

const { cases } = JSON.parse(readFileSync(join(FIXTURES, 'direct-resize.json'), 'utf8')) as { cases: Case[] };

const siglipConfig = (size: number, resample: number) =>
  parseHfPreprocessorConfig({
    image_processor_type: 'SiglipImageProcessor',
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
    resample,
    rescale_factor: 0.00392156862745098,
    size: { height: size, width: size },
  });

const digest = (tensor: Float32Array) => createHash('sha256').update(new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength)).digest('hex');

describe('SigLIP preprocessing (resize straight to the square, no crop)', () => {
  it('reads a SiglipImageProcessor config as a direct resize without crop', () => {
    const config = siglipConfig(384, 2);
    expect(config.resize).toEqual({ kind: 'exact', width: 384, height: 384 });
    expect(config.centerCrop).toBeNull();
    expect(config.resample).toBe('bilinear');
    expect(tensorShape(config)).toEqual([3, 384, 384]);
    // The processor's own defaults where the file is silent (transformers' SiglipImageProcessor).
    expect(parseHfPreprocessorConfig({ image_processor_type: 'SiglipImageProcessor' })).toEqual({
      resize: { kind: 'exact', width: 224, height: 224 },
      resample: 'bicubic',
      centerCrop: null,
      rescaleFactor: 1 / 255,
      normalize: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    });
  });

  it('refuses a crop SiglipImageProcessor does not have, and a shortest-edge size', () => {
    expect(() => parseHfPreprocessorConfig({ image_processor_type: 'SiglipImageProcessor', do_center_crop: true })).toThrow(/no centre crop/);
    expect(() => parseHfPreprocessorConfig({ image_processor_type: 'SiglipImageProcessor', size: { shortest_edge: 224 } })).toThrow(/height, width/);
  });

  it.each(cases.map((c) => [c.file, c.size, c.resample, c] as const))('%s at %i × %i (resample %i): Pillow bit for bit', async (file, size, resample, c) => {
    const tensor = await preprocess(new Uint8Array(readFileSync(join(FIXTURES, file))), siglipConfig(size, resample));
    expect(tensor).toHaveLength(3 * size * size);
    expect(digest(tensor)).toBe(c.sha256);
  });
});
