// loadClip on real ONNX files: the PyTorch-exported fixtures (reference
// embeddings) and the project's generated tiny model, in both layouts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CudaUnavailableError, loadClip, ModelLayoutError, type Clip } from '../../embedder/index.ts';
import { generate } from '../../embedder/model-gen/generate.ts';
import { describeWithShared } from '../support/shared-fixtures.ts';
import { temporaryDirectory } from '../support/files.ts';
import { cosine } from '../support/vectors.ts';

const norm = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));

interface Reference {
  texts: { text: string; embedding: number[] }[];
  images: { file?: string; image?: string; reference?: string; embedding: number[] }[];
}

describeWithShared('the PyTorch-exported fixtures', ['fixtures/exported-models', 'fixtures/clip-preprocess'], (exported, preprocessFixtures) => {
  describe.each(['tiny-hf', 'tiny-immich'])('exported fixture %s', (name) => {
    let clip: Clip;
    let reference: Reference;
    beforeAll(async () => {
      clip = await loadClip(join(exported, name));
      reference = JSON.parse(readFileSync(join(exported, name, 'reference-embeddings.json'), 'utf8')) as Reference;
    });
    afterAll(() => clip.close());

    it('reads layout, embedding size and image size from the files', () => {
      expect(clip.layout).toBe(name === 'tiny-hf' ? 'hf' : 'immich');
      expect(clip.dim).toBe(32);
      expect(clip.imageSize).toBe(224);
      expect(clip.provider).toBe('cpu');
    });

    it('reproduces the PyTorch reference text embeddings (cosine > 0.99999)', async () => {
      const got = await clip.embedTexts(reference.texts.map((t) => t.text));
      reference.texts.forEach((t, i) => expect(cosine(got[i]!, t.embedding)).toBeGreaterThan(0.99999));
    });

    it('reproduces the PyTorch reference image embeddings from the image files', async () => {
      const manifest = JSON.parse(readFileSync(join(preprocessFixtures, 'manifest.json'), 'utf8')) as { cases: { file: string }[] };
      const images = manifest.cases.map((c) => new Uint8Array(readFileSync(join(preprocessFixtures, c.file))));
      const got = await clip.embedImages(images);
      expect(got).toHaveLength(reference.images.length);
      reference.images.forEach((r, i) => expect(cosine(got[i]!, r.embedding)).toBeGreaterThan(0.99999));
    });
  });
});

describe('generated tiny model', () => {
  const dir = temporaryDirectory('clip-');
  let hf: Clip;
  let immich: Clip;
  beforeAll(async () => {
    generate({ arch: 'tiny', outDir: dir, seed: 3 });
    [hf, immich] = await Promise.all([loadClip(join(dir, 'tiny-hf')), loadClip(join(dir, 'tiny-immich'))]);
  });
  afterAll(async () => {
    await hf.close();
    await immich.close();
  });

  const texts = ['a photo of a cat', 'sunset over mountains', '', 'an extremely long caption '.repeat(30)];

  it('returns unit-norm embeddings of the model dimension', async () => {
    for (const v of [...(await hf.embedTexts(texts)), ...(await immich.embedTexts(texts))]) {
      expect(v.length).toBe(32);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
  });

  it('gives the same embeddings in both layouts (same weights, different graphs and dtypes)', async () => {
    const [a, b] = await Promise.all([hf.embedTexts(texts), immich.embedTexts(texts)]);
    texts.forEach((_, i) => expect(cosine(a[i]!, b[i]!)).toBeGreaterThan(0.99999));
  });

  it('pads a batch to its longest text, and that gives the embedding each text has alone', async () => {
    expect(hf.tokenize(['a cat', 'sunset']).length).toBeLessThan(10);
    expect(immich.tokenize(['a cat']).length).toBe(77);
    const batch = await hf.embedTexts(texts);
    for (const [i, text] of texts.entries()) expect(cosine((await hf.embedTexts([text]))[0]!, batch[i]!)).toBeGreaterThan(0.999999);
  });

  describeWithShared('with reference images', ['fixtures/clip-preprocess'], (preprocessFixtures) => {
    it('serves image batches through a graph with a fixed batch of 1', async () => {
      const images = ['coffee.jpg', 'astronaut_rgba.png'].map((f) => new Uint8Array(readFileSync(join(preprocessFixtures, f))));
      const [a, b] = await Promise.all([hf.embedImages(images), immich.embedImages(images)]);
      expect(a).toHaveLength(2);
      a.forEach((v, i) => expect(cosine(v, b[i]!)).toBeGreaterThan(0.99999));
      expect(cosine(a[0]!, a[1]!)).toBeLessThan(0.9999);
    });
  });

  it('runs on the CPU when CUDA is unavailable (auto), and refuses to start when CUDA is required', async () => {
    expect(hf.provider).toBe('cpu');
    await expect(loadClip(join(dir, 'tiny-hf'), { device: 'cuda' })).rejects.toBeInstanceOf(CudaUnavailableError);
  });

  it('explains what is missing from a directory that is not a model', async () => {
    await expect(loadClip(join(dir, 'nope'))).rejects.toBeInstanceOf(ModelLayoutError);
    await expect(loadClip(dir)).rejects.toThrow(/neither the Hugging Face layout/);
    await expect(loadClip(join(dir, 'tiny-hf'), { variant: 'fp16' })).rejects.toThrow(/onnx\/text_model_fp16.onnx/);
  });
});
