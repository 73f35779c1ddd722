// SigLIP in the OpenCLIP/Immich layout (Immich's ViT-B-16-SigLIP__webli and the like), served by loadClip
// from a random-weight model that PyTorch exported as Immich's exporter does
// (embedder/model-gen/families/export_siglip_immich.py): the same weights as the Hugging Face-layout
// fixture (test/fixtures/families/siglip/), checked against PyTorch's embeddings and against that fixture.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClip, type Clip } from '../../embedder/index.ts';
import { pairProbability, type AvailableScoring } from '../../embedder/model/scoring.ts';
import { temporaryDirectory } from '../support/files.ts';
import { expectPyTorchEmbeddings, readReferences } from '../support/pytorch-references.ts';
import { cosine } from '../support/vectors.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'families');
const dir = join(FIXTURES, 'siglip-immich');

interface References {
  logit_scale: number;
  logit_bias: number;
  texts: { text: string; ids: number[]; pad_id: number; embedding: number[] }[];
  images: { file: string; embedding: number[] }[];
  probabilities: { rows: number[][] };
}

const { reference, images } = readReferences<References>(dir);
const texts = reference.texts.map((t) => t.text);
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

/** The fixture copied to a temporary directory, with `change` applied to one of its JSON files. */
function variant(root: string, name: string, file: string, change: (json: Record<string, unknown>) => Record<string, unknown>): string {
  const target = join(root, name);
  cpSync(dir, target, { recursive: true });
  writeFileSync(join(target, file), JSON.stringify(change(readJson(join(dir, file))), null, 2));
  return target;
}

describe('SigLIP in the OpenCLIP/Immich layout, exported by PyTorch', () => {
  let clip: Clip;
  beforeAll(async () => {
    clip = await loadClip(dir);
  });
  afterAll(() => clip?.close());

  it('is read as SigLIP from the open_clip config, with its context length and image size', () => {
    expect(clip.family).toBe('siglip');
    expect(clip.layout).toBe('immich');
    expect(clip.dim).toBe(reference.images[0]!.embedding.length);
    expect(clip.imageSize).toBe(224);
    expect(clip.contextLength).toBe(64);
  });

  it("cleans as the config's tokenizer_kwargs say and pads every text to the context with tokenizer_config.json's pad token", () => {
    const batch = clip.tokenize(texts);
    expect(batch.length).toBe(64);
    reference.texts.forEach((t, i) => {
      const row = Array.from(batch.ids.subarray(i * 64, (i + 1) * 64));
      expect(row).toEqual([...t.ids, ...Array<number>(64 - t.ids.length).fill(t.pad_id)]);
    });
  });

  it("reproduces PyTorch's text embeddings (cosine ≥ 0.99999)", async () => {
    const got = await clip.embedTexts(texts);
    expectPyTorchEmbeddings(got, reference.texts);
    expect(cosine(got[0]!, got[1]!)).toBeLessThan(0.99);
  });

  it("reproduces PyTorch's image embeddings from the image files (squash resize, bicubic)", async () => {
    const got = await clip.embedImages(images);
    expectPyTorchEmbeddings(got, reference.images);
    expect(cosine(got[0]!, got[1]!)).toBeLessThan(0.99);
  });

  it('gathers the last text position early, and leaves the attention-pooling vision head as exported', () => {
    expect(clip.graphs.text).toMatch(/pooled row is gathered before the last \d+ row-wise steps/);
    expect(clip.graphs.vision).toBe('vision graph kept as exported (the attention-pooling head mixes every patch into its output)');
  });

  it("matches PyTorch's embeddings with the rewrite off too", async () => {
    const exported = await loadClip(dir, { pooledRowEarly: false });
    try {
      expect(exported.graphs.text).not.toMatch(/gathered/);
      const got = await exported.embedTexts(texts);
      expectPyTorchEmbeddings(got, reference.texts);
      const embedded = await exported.embedImages(images);
      expectPyTorchEmbeddings(embedded, reference.images);
    } finally {
      await exported.close();
    }
  });

  it('embeds as the Hugging Face-layout export of the same weights does', async () => {
    const hf = await loadClip(join(FIXTURES, 'siglip'));
    try {
      expect(hf.layout).toBe('hf');
      const [ours, theirs] = [await clip.embedTexts(texts), await hf.embedTexts(texts)];
      ours.forEach((embedding, i) => expect(cosine(embedding, theirs[i]!)).toBeGreaterThanOrEqual(0.999999));
      const [ourImages, theirImages] = [await clip.embedImages(images), await hf.embedImages(images)];
      ourImages.forEach((embedding, i) => expect(cosine(embedding, theirImages[i]!)).toBeGreaterThanOrEqual(0.999999));
    } finally {
      await hf.close();
    }
  });

  it("cannot score: the learned scale and bias are not in Immich's files, and init_logit_bias is not taken for them", () => {
    expect(readJson(join(dir, 'config.json'))['init_logit_bias']).toBe(-10);
    expect(clip.logitScale).toBeNull();
    expect(clip.scoring.kind).toBe('unavailable');
    const { reason } = clip.scoring as { reason: string };
    expect(reason).toContain("which Immich's export does not carry");
    expect(reason).toContain('init_logit_bias is the value training started from, not the learned one');
    expect(reason).toContain('add both at the top level of config.json');
    expect(reason).not.toContain('onnx/model.onnx');
  });
});

describe('an Immich-layout SigLIP whose files were changed', () => {
  const root = temporaryDirectory('siglip-immich-');

  it("scores with the learned logit_scale and logit_bias added to config.json (PyTorch's probabilities)", async () => {
    const scored = variant(root, 'scored', 'config.json', (config) => ({ ...config, logit_scale: reference.logit_scale, logit_bias: reference.logit_bias }));
    const clip = await loadClip(scored);
    try {
      const scoring: AvailableScoring = { kind: 'sigmoid', scale: Math.exp(reference.logit_scale), bias: reference.logit_bias };
      expect(clip.scoring).toEqual(scoring);
      const [textEmbeddings, imageEmbeddings] = [await clip.embedTexts(texts), await clip.embedImages(images)];
      reference.probabilities.rows.forEach((row, t) =>
        row.forEach((p, i) => expect(pairProbability(scoring, cosine(textEmbeddings[t]!, imageEmbeddings[i]!))).toBeCloseTo(p, 5)),
      );
    } finally {
      await clip.close();
    }
  });

  it('refuses a preprocess_cfg.json resize mode it does not run, at start, naming the ones it does', async () => {
    const letterboxed = variant(root, 'letterboxed', 'visual/preprocess_cfg.json', (cfg) => ({ ...cfg, resize_mode: 'longest' }));
    await expect(loadClip(letterboxed)).rejects.toThrow(/resize_mode "longest" is not supported: "shortest" .* and "squash" .* are/);
  });
});
