/**
 * The image preprocessing reproduces the reference tensors of Hugging Face's CLIPImageProcessor (PIL
 * backend) in /work/shared/fixtures/clip-preprocess bit for bit, with the config read from either
 * published model layout.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadPreprocessConfig, preprocess, tensorShape } from '../../embedder/image/index.ts';
import type { PreprocessConfig } from '../../embedder/image/index.ts';
import { describeWithShared } from '../support/shared-fixtures.ts';

interface ManifestCase {
  file: string;
  reference: string;
  displayed_size_after_exif: [number, number];
  resized_size: [number, number];
  crop_box_ltrb: [number, number, number, number];
}

function readF32(path: string): Float32Array {
  const bytes = readFileSync(path);
  const out = new Float32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

function compare(actual: Float32Array, expected: Float32Array) {
  let maxAbs = 0;
  let sumAbs = 0;
  let dot = 0;
  let aa = 0;
  let ee = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    maxAbs = Math.max(maxAbs, Math.abs(a - e));
    sumAbs += Math.abs(a - e);
    dot += a * e;
    aa += a * a;
    ee += e * e;
  }
  return { maxAbs, meanAbs: sumAbs / expected.length, cosine: dot / Math.sqrt(aa * ee) };
}

describeWithShared('CLIP preprocessing against the reference tensors', ['fixtures/clip-preprocess', 'fixtures/exported-models'], (fixtures, models) => {
  const manifest = JSON.parse(readFileSync(join(fixtures, 'manifest.json'), 'utf8')) as { cases: ManifestCase[] };
  const layouts: [string, () => Promise<PreprocessConfig>][] = [
    ['Hugging Face preprocessor_config.json', () => loadPreprocessConfig(join(models, 'tiny-hf'))],
    ['OpenCLIP/Immich visual/preprocess_cfg.json', () => loadPreprocessConfig(join(models, 'tiny-immich'))],
  ];

  it('has public cases to check', () => {
    expect(manifest.cases.length).toBeGreaterThanOrEqual(3);
  });

  describe.each(layouts)('config from %s', (_, load) => {
    it.each(manifest.cases.map((c) => [c.file, c] as const))(
      '%s gives the reference tensor bit for bit',
      async (_file, fixture) => {
        const config = await load();
        expect(tensorShape(config)).toEqual([3, 224, 224]);
        const actual = await preprocess(readFileSync(join(fixtures, fixture.file)), config);
        const expected = readF32(join(fixtures, fixture.reference));
        expect(actual.length).toBe(3 * 224 * 224);

        const { maxAbs, meanAbs, cosine } = compare(actual, expected);
        console.log(`${fixture.file}: max |diff| ${maxAbs}, mean |diff| ${meanAbs}, cosine ${cosine}`);
        expect(cosine).toBeGreaterThanOrEqual(0.9999);
        // A faithful port of Pillow's resampler leaves no difference at all; any is a convention bug.
        expect(maxAbs).toBe(0);
        expect(meanAbs).toBe(0);
      },
    );
  });

  it('applies the EXIF orientation first: the same pixels without the tag give a different tensor', async () => {
    const config = await layouts[0]![1]();
    const chelsea = manifest.cases.find((c) => c.file === 'chelsea_exif6.jpg')!;
    const expected = readF32(join(fixtures, chelsea.reference));
    const withTag = await preprocess(readFileSync(join(fixtures, chelsea.file)), config);
    expect(compare(withTag, expected).maxAbs).toBe(0);

    // The stored (sideways) pixels, losslessly re-encoded without EXIF.
    const stored = await sharp(readFileSync(join(fixtures, chelsea.file))).png().toBuffer();
    const withoutTag = await preprocess(stored, config);
    expect(compare(withoutTag, expected).cosine).toBeLessThan(0.95);
  });
});
