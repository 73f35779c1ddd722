// Multilingual CLIP (an XLM-RoBERTa text tower beside a CLIP vision tower, Immich's M-CLIP layout) served
// by loadClip, against a random-weight model an independent PyTorch implementation exported with its own
// embeddings (embedder/model-gen/families/multilingual/, test/fixtures/families/multilingual-clip/).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClip, type Clip } from '../../embedder/index.ts';
import { detectFamily, UnsupportedFamilyError } from '../../embedder/model/family.ts';
import { locateModelFiles } from '../../embedder/model/layout.ts';
import { temporaryDirectory } from '../support/files.ts';
import { expectPyTorchEmbeddings, readReferences } from '../support/pytorch-references.ts';
import { cosine } from '../support/vectors.ts';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'families', 'multilingual-clip');

interface References {
  context_length: number;
  pad_id: number;
  texts: { text: string; ids: number[]; embedding: number[] }[];
  images: { file: string; embedding: number[] }[];
}

const { reference, images } = readReferences<References>(DIR);
const texts = reference.texts.map((t) => t.text);

describe.each([
  { rewrite: true, label: 'pooled-row rewrite allowed' },
  { rewrite: false, label: 'pooled-row rewrite off' },
])('multilingual CLIP exported by PyTorch ($label)', ({ rewrite }) => {
  let clip: Clip;
  beforeAll(async () => {
    clip = await loadClip(DIR, { device: 'cpu', pooledRowEarly: rewrite });
  });
  afterAll(() => clip?.close());

  it('is read as multilingual-clip from the Immich layout, with sizes from the graphs and CLIP’s softmax', () => {
    expect(clip.family).toBe('multilingual-clip');
    expect(clip.layout).toBe('immich');
    expect(clip.dim).toBe(reference.texts[0]!.embedding.length);
    expect(clip.imageSize).toBe(32);
    expect(clip.contextLength).toBe(77);
    expect(clip.scoring).toEqual({ kind: 'softmax', scale: 100 });
  });

  it('tokenizes with XLM-R’s ids, padded with <pad> to the fixed 77 and masked', () => {
    const batch = clip.tokenize(texts);
    expect(batch.length).toBe(77);
    reference.texts.forEach((t, row) => {
      const ids = Array.from(batch.ids.subarray(row * 77, (row + 1) * 77));
      const mask = Array.from(batch.attentionMask.subarray(row * 77, (row + 1) * 77));
      expect(ids).toEqual([...t.ids, ...Array<number>(77 - t.ids.length).fill(reference.pad_id)]);
      expect(mask).toEqual([...Array<number>(t.ids.length).fill(1), ...Array<number>(77 - t.ids.length).fill(0)]);
    });
  });

  it("reproduces PyTorch's text embeddings in every script (cosine ≥ 0.99999), mean-pooled under the mask", async () => {
    const got = await clip.embedTexts(texts);
    expectPyTorchEmbeddings(got, reference.texts, (t) => t.text);
    // The texts land apart: a model that maps everything to one point does not pass.
    expect(cosine(got[0]!, got[1]!)).toBeLessThan(0.99);
  });

  it("reproduces PyTorch's image embeddings from the image files (cosine ≥ 0.99999)", async () => {
    const got = await clip.embedImages(images);
    expectPyTorchEmbeddings(got, reference.images, (image) => image.file);
    expect(cosine(got[0]!, got[1]!)).toBeLessThan(0.99);
  });

  it('leaves the mean-pooled text graph as exported; only the vision tower may be rewritten', () => {
    expect(clip.graphs.text).toBe(
      rewrite
        ? 'text graph kept as exported (the text is mean-pooled over every unmasked position)'
        : 'text graph kept as exported',
    );
    expect(clip.graphs.vision).toMatch(rewrite ? /^vision graph: the pooled row is gathered before/ : /^vision graph kept as exported$/);
  });
});

describe('multilingual-clip detection', () => {
  const dir = temporaryDirectory('multilingual-family-');

  /** An Immich-layout directory with the given config.json and textual/tokenizer_config.json. */
  function immichDir(name: string, tokenizerConfig?: object) {
    const root = join(dir, name);
    for (const sub of ['textual', 'visual']) mkdirSync(join(root, sub), { recursive: true });
    for (const file of ['config.json', 'textual/model.onnx', 'textual/tokenizer.json', 'visual/model.onnx', 'visual/preprocess_cfg.json'])
      writeFileSync(join(root, file), '{}');
    if (tokenizerConfig) writeFileSync(join(root, 'textual', 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
    return locateModelFiles(root);
  }
  const visionConfig = { embed_dim: 640, vision_cfg: { image_size: 240, patch_size: 16 }, text_cfg: { context_length: 77, vocab_size: 49408 } };

  it('tells an M-CLIP export by its textual tokenizer config, the config.json being the vision model’s', () => {
    expect(detectFamily(immichDir('mclip', { tokenizer_class: 'XLMRobertaTokenizer' }), visionConfig)).toBe('multilingual-clip');
    expect(detectFamily(immichDir('mclip-fast', { tokenizer_class: 'XLMRobertaTokenizerFast' }), visionConfig)).toBe('multilingual-clip');
    expect(detectFamily(immichDir('clip', { tokenizer_class: 'CLIPTokenizer' }), visionConfig)).toBe('clip');
  });

  it('tells open_clip’s xlm-roberta models by their text_cfg, and still refuses other Hugging Face text towers', () => {
    const files = immichDir('openclip-xlmr');
    const config = { embed_dim: 1024, text_cfg: { hf_model_name: 'xlm-roberta-large', hf_tokenizer_name: 'xlm-roberta-large', pooler_type: 'mean_pooler' } };
    expect(detectFamily(files, config)).toBe('multilingual-clip');
    const nllb = { embed_dim: 512, text_cfg: { hf_model_name: 'facebook/nllb-200-distilled-600M' } };
    expect(() => detectFamily(files, nllb)).toThrow(UnsupportedFamilyError);
    expect(() => detectFamily(files, nllb)).toThrow(/nllb-200-distilled-600M.*multilingual-clip/);
  });
});
