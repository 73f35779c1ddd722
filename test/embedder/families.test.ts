// Model families behind loadClip: SigLIP and SigLIP 2 served end to end from random-weight models that
// PyTorch exported (test/fixtures/families/, embedder/model-gen/families/), against PyTorch's own pooled
// outputs, embeddings and sigmoid probabilities; the family read from the files, an unsupported
// one refused at start; and a SigLIP without its learned scale and bias, which embeds and searches
// but does not score.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClip, type Clip } from '../../embedder/index.ts';
import { generate } from '../../embedder/model-gen/generate.ts';
import { detectFamily, UnsupportedFamilyError } from '../../embedder/model/family.ts';
import type { ModelFiles } from '../../embedder/model/layout.ts';
import { gatherPooledRowEarly } from '../../embedder/runtime/pooled-rows.ts';
import { temporaryDirectory } from '../support/files.ts';
import { startService, type ServiceProcess } from '../support/service-process.ts';
import { expectPyTorchEmbeddings, readReferences } from '../support/pytorch-references.ts';
import { cosine } from '../support/vectors.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'families');

interface References {
  family: string;
  context_length: number;
  logit_scale: number;
  logit_bias: number;
  texts: { text: string; ids: number[]; pad_id: number; pooler_output: number[]; embedding: number[] }[];
  images: { file: string; pooler_output: number[]; embedding: number[] }[];
  probabilities: { rows: number[][] };
}

const post = async (url: string, body: unknown) => {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe.each([
  { family: 'siglip', vocab: 32000, resample: 'bicubic' },
  { family: 'siglip2', vocab: 256000, resample: 'bilinear' },
])('$family, exported by PyTorch', ({ family, resample }) => {
  const dir = join(FIXTURES, family);
  const { reference, images } = readReferences<References>(dir);
  let clip: Clip;
  beforeAll(async () => {
    clip = await loadClip(dir);
  });
  afterAll(() => clip?.close());

  it('is read as its family from the files, with sizes and scoring from the model', () => {
    expect(clip.family).toBe(family);
    expect(clip.layout).toBe('hf');
    expect(clip.dim).toBe(reference.images[0]!.embedding.length);
    expect(clip.imageSize).toBe(224);
    expect(clip.contextLength).toBe(64);
    expect(clip.scoring).toEqual({ kind: 'sigmoid', scale: Math.exp(reference.logit_scale), bias: reference.logit_bias });
  });

  it('pads every text to the full context with the pad token', () => {
    const batch = clip.tokenize(reference.texts.map((t) => t.text));
    expect(batch.length).toBe(64);
    reference.texts.forEach((t, i) => {
      const row = Array.from(batch.ids.subarray(i * 64, (i + 1) * 64));
      expect(row).toEqual([...t.ids, ...Array<number>(64 - t.ids.length).fill(t.pad_id)]);
    });
  });

  it("reproduces PyTorch's text embeddings (cosine ≥ 0.99999), the last position pooled", async () => {
    const got = await clip.embedTexts(reference.texts.map((t) => t.text));
    expectPyTorchEmbeddings(got, reference.texts);
    // The texts land apart: the check is not passed by a model that maps everything to one point.
    expect(cosine(got[0]!, got[1]!)).toBeLessThan(0.99);
  });

  it(`reproduces PyTorch's image embeddings from the image files (${resample}, no crop, attention-pooled)`, async () => {
    const got = await clip.embedImages(images);
    expectPyTorchEmbeddings(got, reference.images);
    expect(cosine(got[0]!, got[1]!)).toBeLessThan(0.99);
  });

  it('gathers the last text position early, and leaves the attention-pooling vision head as exported', () => {
    expect(clip.graphs.text).toMatch(/pooled row is gathered before the last \d+ row-wise steps/);
    expect(clip.graphs.vision).toBe('vision graph kept as exported (the attention-pooling head mixes every patch into its output)');
  });

  it('lets the rewrite move only the pooling the family has', () => {
    const textGraph = new Uint8Array(readFileSync(join(dir, 'onnx/text_model.onnx')));
    expect(gatherPooledRowEarly(textGraph, 'pooler_output', ['row'])).not.toBeNull();
    expect(gatherPooledRowEarly(textGraph, 'pooler_output', ['end-of-text'])).toBeNull();
  });

  it("matches PyTorch's embeddings with the rewrite off too", async () => {
    const exported = await loadClip(dir, { pooledRowEarly: false });
    try {
      const [text] = await exported.embedTexts([reference.texts[1]!.text]);
      expect(cosine(text!, reference.texts[1]!.embedding)).toBeGreaterThanOrEqual(0.99999);
    } finally {
      await exported.close();
    }
  });

  describe('over HTTP', () => {
    let embedder: ServiceProcess;
    const dataUrl = (i: number) => `data:image/${reference.images[i]!.file.endsWith('.png') ? 'png' : 'jpeg'};base64,${Buffer.from(images[i]!).toString('base64')}`;
    beforeAll(async () => {
      embedder = await startService('embedder/main.ts', { MODEL_DIR: dir, EMBEDDER_PORT: '0', EMBEDDER_THREADS: '1' }, 'embedder ready');
    });
    afterAll(() => embedder?.stop());

    it("/v1/similarity answers PyTorch's sigmoid probabilities beside the cosines", async () => {
      const { status, body } = await post(`${embedder.url}/v1/similarity`, { texts: reference.texts.map((t) => t.text), images: images.map((_, i) => dataUrl(i)) });
      expect(status).toBe(200);
      const probabilities = body.probabilities as number[][];
      reference.probabilities.rows.forEach((row, t) => row.forEach((p, i) => expect(probabilities[t]![i]).toBeCloseTo(p, 5)));
    });

    it("/v1/classify gives each label its own sigmoid probability (PyTorch's), not a softmax", async () => {
      const labels = reference.texts.filter((t) => t.text !== '').map((t) => t.text);
      const { status, body } = await post(`${embedder.url}/v1/classify`, { image: dataUrl(0), labels, template: '{}' });
      expect(status).toBe(200);
      const answered = body.labels as { label: string; probability: number }[];
      for (const { label, probability } of answered) {
        const t = reference.texts.findIndex((r) => r.text === label);
        expect(probability).toBeCloseTo(reference.probabilities.rows[t]![0]!, 5);
      }
      expect(answered.reduce((sum, l) => sum + l.probability, 0)).not.toBeCloseTo(1, 2);
    });
  });
});

describe('the family read from the files', () => {
  const dir = temporaryDirectory('families-');
  const [tiny] = generate({ arch: 'tiny', outDir: dir, seed: 5, layouts: ['hf'] });
  const withConfig = (name: string, config: Record<string, unknown>) => {
    const target = join(dir, name);
    mkdirSync(join(target, 'onnx'), { recursive: true });
    for (const file of ['onnx/text_model.onnx', 'onnx/vision_model.onnx', 'tokenizer.json', 'preprocessor_config.json'])
      writeFileSync(join(target, file), readFileSync(join(tiny!.dir, file)));
    writeFileSync(join(target, 'config.json'), JSON.stringify(config));
    return target;
  };

  it('serves a CLIP config (model_type clip) as CLIP, with softmax scoring at its temperature', async () => {
    const clip = await loadClip(tiny!.dir);
    try {
      expect(clip.family).toBe('clip');
      expect(clip.scoring).toEqual({ kind: 'softmax', scale: 100 });
      expect(clip.logitScale).toBe(100);
    } finally {
      await clip.close();
    }
  });

  it.each([
    ['blip', { model_type: 'blip' }, /model_type "blip"/],
    ['naflex', { model_type: 'siglip2' }, /SigLIP 2 NaFlex/],
  ])('refuses %s at start, naming what it found and what is supported', async (name, config, found) => {
    const attempt = loadClip(withConfig(name, config));
    await expect(attempt).rejects.toThrow(UnsupportedFamilyError);
    await expect(attempt).rejects.toThrow(found);
    await expect(attempt).rejects.toThrow(/supported families: clip .*siglip .*siglip2/);
  });

  it('tells the families of open_clip (Immich) configs apart, and refuses a Hugging Face text tower it does not know', () => {
    const at = (path: string) => join(dir, 'immich', path);
    const immich: ModelFiles = {
      layout: 'immich',
      dir: join(dir, 'immich'),
      config: at('config.json'),
      tokenizer: at('textual/tokenizer.json'),
      preprocessConfig: at('visual/preprocess_cfg.json'),
      textModel: at('textual/model.onnx'),
      visionModel: at('visual/model.onnx'),
      combined: false,
    };
    const vitB32 = { embed_dim: 512, vision_cfg: { image_size: 224, layers: 12, width: 768, patch_size: 32 }, text_cfg: { context_length: 77, vocab_size: 49408 } };
    expect(detectFamily(immich, vitB32)).toBe('clip');
    const siglipB16 = {
      embed_dim: 768,
      init_logit_bias: -10,
      vision_cfg: { image_size: 224, timm_model_name: 'vit_base_patch16_siglip_224' },
      text_cfg: { context_length: 64, vocab_size: 32000, hf_tokenizer_name: 'timm/ViT-B-16-SigLIP', tokenizer_kwargs: { clean: 'canonicalize' } },
    };
    expect(detectFamily(immich, siglipB16)).toBe('siglip');
    const siglip2 = { ...siglipB16, vision_cfg: { timm_model_name: 'vit_base_patch16_siglip_224' }, text_cfg: { hf_tokenizer_name: 'timm/ViT-B-16-SigLIP2' } };
    expect(detectFamily(immich, siglip2)).toBe('siglip2');
    expect(() => detectFamily(immich, { embed_dim: 768, text_cfg: { hf_model_name: 'roberta-base' } })).toThrow(/Hugging Face model roberta-base/);
  });

  it('refuses a SigLIP whose config.json states only one of its learned scale and bias, or not as numbers', async () => {
    const onlyScale = withConfig('siglip-scale-only', { model_type: 'siglip', text_config: { vocab_size: 32000 }, logit_scale: 2.3 });
    await expect(loadClip(onlyScale)).rejects.toThrow(/must state both of the model's learned logit_scale .* and logit_bias as numbers, or neither \(found 2.3 and undefined\)/);
    const text = withConfig('siglip-text-bias', { model_type: 'siglip', text_config: { vocab_size: 32000 }, logit_scale: 2.3, logit_bias: '-10' });
    await expect(loadClip(text)).rejects.toThrow(/found 2.3 and "-10"/);
  });
});

/** The sorted model list of GET /v1/models. */
interface ModelEntry {
  id: string;
  family: string;
  logit_scale?: number;
  scoring: { kind: string; scale?: number; bias?: number; reason?: string };
}

// Xenova's and onnx-community's SigLIP repositories hold the learned logit_scale and logit_bias only in
// their combined onnx/model.onnx, which `npm run model:fetch` does not download beside the split towers.
describe('a SigLIP whose files hold neither its learned scale nor its bias (a split export as downloaded)', () => {
  const complete = join(FIXTURES, 'siglip');
  const { reference, images } = readReferences<References>(complete);
  const dataUrl = (i: number) => `data:image/${reference.images[i]!.file.endsWith('.png') ? 'png' : 'jpeg'};base64,${Buffer.from(images[i]!).toString('base64')}`;
  const root = temporaryDirectory('siglip-unscored-');
  /** The SigLIP fixture copied, its config.json without logit_scale and logit_bias; the committed fixture stays as it is. */
  const withoutScoring = (name: string) => {
    const target = join(root, name);
    cpSync(complete, target, { recursive: true });
    const { logit_scale: _scale, logit_bias: _bias, ...config } = JSON.parse(readFileSync(join(complete, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(target, 'config.json'), JSON.stringify(config, null, 2));
    return target;
  };
  const bare = withoutScoring('bare');
  // The same model's combined graph, exported by torch as Optimum does (model-gen/families/export_siglip_combined.py).
  const combined = withoutScoring('with-combined-graph');
  cpSync(join(FIXTURES, 'siglip-combined', 'model.onnx'), join(combined, 'onnx', 'model.onnx'));
  const [tinyClip] = generate({ arch: 'tiny', outDir: join(root, 'clip'), seed: 5, layouts: ['hf'] });

  let unscored: Clip;
  let scored: Clip;
  let embedder: ServiceProcess;
  beforeAll(async () => {
    [unscored, scored] = await Promise.all([loadClip(bare), loadClip(complete)]);
    const models = `bare=${bare},complete=${complete},combined=${combined},clip=${tinyClip!.dir}`;
    embedder = await startService('embedder/main.ts', { EMBEDDER_MODELS: models, EMBEDDER_PORT: '0', EMBEDDER_THREADS: '1' }, 'embedder ready');
  });
  afterAll(async () => {
    await Promise.all([unscored?.close(), scored?.close(), embedder?.stop()]);
  });

  it('loads, its scoring unavailable with the reason: what to add to config.json, and where the values come from', () => {
    expect(unscored.family).toBe('siglip');
    expect(unscored.logitScale).toBeNull();
    expect(unscored.scoring.kind).toBe('unavailable');
    const { reason } = unscored.scoring as { reason: string };
    expect(reason).toContain('"logit_scale": <SiglipModel\'s logit_scale parameter, the log of the scale> and "logit_bias": <its logit_bias parameter>');
    expect(reason).toContain('the original PyTorch checkpoint (model.logit_scale.item(), model.logit_bias.item())');
    expect(reason).toContain("the repository's combined onnx/model.onnx");
    expect(reason).toContain('Embeddings and search are served without them');
  });

  it('embeds texts and images exactly as the same model with its scale and bias', async () => {
    const texts = reference.texts.map((t) => t.text);
    expect(await unscored.embedTexts(texts)).toEqual(await scored.embedTexts(texts));
    expect(await unscored.embedImages(images)).toEqual(await scored.embedImages(images));
  });

  it('warns once at start, naming the model and what config.json needs', () => {
    const warnings = embedder.logs.filter((line) => line.includes('scoring unavailable'));
    expect(warnings).toHaveLength(1);
    const warning = JSON.parse(warnings[0]!) as { level: number; model: string; msg: string };
    expect(warning.model).toBe('bare');
    expect(warning.level).toBe(40);
    expect(warning.msg).toContain('add both at the top level of config.json');
  });

  it('reads the scale and bias from a combined onnx/model.onnx beside the split towers', async () => {
    const clip = await loadClip(combined);
    try {
      expect(clip.scoring).toEqual({ kind: 'sigmoid', scale: Math.exp(reference.logit_scale), bias: reference.logit_bias });
    } finally {
      await clip.close();
    }
  });

  it('served from the combined graph alone, embeds as PyTorch does and scores with the graph\'s values', async () => {
    const only = withoutScoring('combined-graph-only');
    rmSync(join(only, 'onnx'), { recursive: true });
    mkdirSync(join(only, 'onnx'));
    cpSync(join(FIXTURES, 'siglip-combined', 'model.onnx'), join(only, 'onnx', 'model.onnx'));
    const clip = await loadClip(only);
    try {
      expect(clip.scoring).toEqual({ kind: 'sigmoid', scale: Math.exp(reference.logit_scale), bias: reference.logit_bias });
      const texts = await clip.embedTexts(reference.texts.map((t) => t.text));
      expectPyTorchEmbeddings(texts, reference.texts);
      const embedded = await clip.embedImages(images);
      expectPyTorchEmbeddings(embedded, reference.images);
    } finally {
      await clip.close();
    }
  });

  it('lists each model\'s scoring in GET /v1/models: its kind, and the scale and bias where known', async () => {
    const { data } = (await (await fetch(`${embedder.url}/v1/models`)).json()) as { data: ModelEntry[] };
    const [unscoredEntry, completeEntry, combinedEntry, clipEntry] = data;
    expect(unscoredEntry).not.toHaveProperty('logit_scale');
    expect(unscoredEntry!.scoring).toEqual({ kind: 'unavailable', reason: (unscored.scoring as { reason: string }).reason });
    const sigmoid = { kind: 'sigmoid', scale: Math.exp(reference.logit_scale), bias: reference.logit_bias };
    expect([completeEntry!.logit_scale, completeEntry!.scoring]).toEqual([sigmoid.scale, sigmoid]);
    expect([combinedEntry!.logit_scale, combinedEntry!.scoring]).toEqual([sigmoid.scale, sigmoid]);
    expect([clipEntry!.family, clipEntry!.logit_scale, clipEntry!.scoring]).toEqual(['clip', 100, { kind: 'softmax', scale: 100 }]);
  });

  it('documents these answers in its OpenAPI document', async () => {
    interface Schema { properties?: Record<string, Schema>; oneOf?: Schema[]; anyOf?: Schema[]; const?: string; enum?: string[] }
    const doc = (await (await fetch(`${embedder.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, Schema> };
    };
    const { ModelScoring: scoring, SimilarityResponse: similarity } = doc.components.schemas;
    expect((scoring!.oneOf ?? scoring!.anyOf)!.map((variant) => variant.properties!.kind!.const ?? variant.properties!.kind!.enum?.[0])).toEqual([
      'softmax',
      'sigmoid',
      'unavailable',
    ]);
    expect(Object.keys(similarity!.properties!)).toEqual(['model', 'scores', 'probabilities', 'probabilities_unavailable']);
    expect(Object.keys(doc.paths['/v1/classify']!.post!.responses)).toContain('422');
  });

  it('serves /v1/embed/text, /v1/embed/image and /v1/embeddings as the complete model does', async () => {
    const embedText = (model: string) => post(`${embedder.url}/v1/embed/text`, { texts: reference.texts.map((t) => t.text), model });
    const [bareText, completeText] = await Promise.all([embedText('bare'), embedText('complete')]);
    expect(bareText.status).toBe(200);
    expect(bareText.body.embeddings).toEqual(completeText.body.embeddings);
    const embedImage = async (model: string) => {
      const response = await fetch(`${embedder.url}/v1/embed/image?model=${model}`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: images[0]! });
      return { status: response.status, body: (await response.json()) as { embeddings: number[][] } };
    };
    const [bareImage, completeImage] = await Promise.all([embedImage('bare'), embedImage('complete')]);
    expect(bareImage.status).toBe(200);
    expect(bareImage.body.embeddings).toEqual(completeImage.body.embeddings);
    const embeddings = (model: string) => post(`${embedder.url}/v1/embeddings`, { input: [reference.texts[1]!.text, { image: dataUrl(1) }], model });
    const [bareOpenAi, completeOpenAi] = await Promise.all([embeddings('bare'), embeddings('complete')]);
    expect(bareOpenAi.status).toBe(200);
    expect(bareOpenAi.body.data).toEqual(completeOpenAi.body.data);
  });

  it('answers /v1/similarity with the cosines, and instead of probabilities the reason they are unavailable', async () => {
    const request = (model: string) => post(`${embedder.url}/v1/similarity`, { texts: reference.texts.map((t) => t.text), images: images.map((_, i) => dataUrl(i)), model });
    const [bareAnswer, completeAnswer] = await Promise.all([request('bare'), request('complete')]);
    expect(bareAnswer.status).toBe(200);
    expect(bareAnswer.body.scores).toEqual(completeAnswer.body.scores);
    expect(bareAnswer.body).not.toHaveProperty('probabilities');
    expect(bareAnswer.body.probabilities_unavailable).toBe((unscored.scoring as { reason: string }).reason);
    expect(completeAnswer.body).not.toHaveProperty('probabilities_unavailable');
  });

  it("answers PyTorch's probabilities from the scale and bias of the combined graph", async () => {
    const { status, body } = await post(`${embedder.url}/v1/similarity`, { texts: reference.texts.map((t) => t.text), images: images.map((_, i) => dataUrl(i)), model: 'combined' });
    expect(status).toBe(200);
    const probabilities = body.probabilities as number[][];
    reference.probabilities.rows.forEach((row, t) => row.forEach((p, i) => expect(probabilities[t]![i]).toBeCloseTo(p, 5)));
  });

  it('refuses /v1/classify with 422 scoring_unavailable and the reason, and keeps serving', async () => {
    const labels = reference.texts.filter((t) => t.text !== '').map((t) => t.text);
    const { status, body } = await post(`${embedder.url}/v1/classify`, { image: dataUrl(0), labels, template: '{}', model: 'bare' });
    expect(status).toBe(422);
    const error = body.error as { code: string; message: string };
    expect(error.code).toBe('scoring_unavailable');
    expect(error.message).toBe(`model bare cannot classify: ${(unscored.scoring as { reason: string }).reason}`);
    const complete = await post(`${embedder.url}/v1/classify`, { image: dataUrl(0), labels, template: '{}', model: 'complete' });
    expect(complete.status).toBe(200);
  });
});
