/**
 * The generator's `hf-combined` layout: one CLIPModel graph (onnx/model.onnx,
 * as Xenova ships) holding the same weights as the split hf files of the same
 * seed. Its I/O is the documented one, its logits are 100 · cosine, and
 * through `loadClip` it gives the split model's embeddings.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClip, type Clip } from '../../embedder/index.ts';
import { ARCHS } from '../../embedder/model-gen/arch.ts';
import {
  generate,
  HF_COMBINED_MODEL,
  HF_LOGIT_SCALE,
  HF_TEXT_MODEL,
  HF_VISION_MODEL,
  layoutDirName,
} from '../../embedder/model-gen/generate.ts';
import type { GraphSpec } from '../../embedder/model-gen/graph-builder.ts';
import { modelSpec, type LayoutContext } from '../../embedder/model-gen/layout-common.ts';
import { hfCombinedGraph, hfTextGraph, hfVisionGraph } from '../../embedder/model-gen/layout-hf.ts';
import { modelByteLength } from '../../embedder/model-gen/onnx-writer.ts';
import { elementCount } from '../../embedder/model-gen/tensor-source.ts';
import { listFiles } from '../support/files.ts';
import { seededRandom } from '../support/random.ts';
import { CLIP_EOT, CLIP_SOT, cosine, dot, int64Batch, padded, randomPixelBatch, rowsOf } from '../support/vectors.ts';

const SOT = CLIP_SOT;
const EOT = CLIP_EOT;
const EMBED_DIM = 32;

/** Token ids (SOT … EOT) of texts of different lengths. */
const TEXTS: number[][] = [
  [SOT, 320, 1125, 539, 320, 2368, EOT],
  [SOT, 3424, 962, 5873, EOT],
  [SOT, EOT],
  [SOT, 3306, 267, 1002, 256, 829, 631, 592, 286, 1200, 3601, 267, EOT],
];




const l2 = (v: Float32Array): Float32Array => v.map((x) => x / Math.hypot(...v));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}



let root: string;
let hfDir: string;
let combinedDir: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'model-gen-combined-'));
  const results = generate({ arch: 'tiny', seed: 11, outDir: root, layouts: ['hf', 'hf-combined'] });
  expect(results.map((r) => r.layout)).toEqual(['hf', 'hf-combined']);
  [hfDir, combinedDir] = results.map((r) => r.dir) as [string, string];
  expect(combinedDir).toBe(join(root, 'tiny-hf-combined'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('hf-combined layout files', () => {
  it('has the hf files, with onnx/model.onnx in place of the two tower files', () => {
    const shared = listFiles(hfDir).filter((f) => f !== HF_TEXT_MODEL && f !== HF_VISION_MODEL);
    expect(listFiles(combinedDir)).toEqual([...shared, HF_COMBINED_MODEL].sort());
    for (const file of shared) {
      expect(readFileSync(join(combinedDir, file)).equals(readFileSync(join(hfDir, file))), file).toBe(true);
    }
  });

  it('is not written by default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-gen-default-'));
    try {
      // Writing the tiny model takes about a second; only the layout names matter here.
      expect(generate({ arch: 'tiny', seed: 11, outDir: dir }).map((r) => r.layout)).toEqual(['hf', 'immich']);
      expect(readdirSync(dir).sort()).toEqual(['tiny-hf', 'tiny-immich']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('vit-b-32 combined graph (shapes only, no weights generated)', () => {
  it('holds both towers\' weights under their split-file names, plus the logit scale', () => {
    const arch = ARCHS['vit-b-32'];
    const weights = (graph: GraphSpec) =>
      new Map(graph.initializers.filter((i) => !i.name.startsWith('const_')).map((i) => [i.name, i.source.dims]));
    const combined = weights(hfCombinedGraph(arch, 0));
    const split = new Map([...weights(hfTextGraph(arch, 0)), ...weights(hfVisionGraph(arch, 0)), ['logit_scale', []]]);
    expect(combined).toEqual(split);
    const parameters = [...combined.values()].reduce((n, dims) => n + elementCount(dims), 0);
    expect(parameters).toBe(151_277_313); // CLIPModel openai/clip-vit-base-patch32
    const context: LayoutContext = { arch, seed: 0, dir: '', tokenizer: {} };
    // Xenova/clip-vit-base-patch32 onnx/model.onnx: 606 MB.
    expect(modelByteLength(modelSpec(hfCombinedGraph(arch, 0), context, 'hf-combined', 'clip')) / 1e6).toBeCloseTo(605, -1);
    expect(layoutDirName('vit-b-32', 'hf-combined')).toBe('random-vit-b-32-hf-combined');
    expect(layoutDirName('tiny', 'hf-combined')).toBe('tiny-hf-combined');
  });
});

describe('onnx/model.onnx in onnxruntime-node', () => {
  let combined: InferenceSession;
  let text: InferenceSession;
  let vision: InferenceSession;
  beforeAll(async () => {
    [combined, text, vision] = await Promise.all([
      InferenceSession.create(join(combinedDir, HF_COMBINED_MODEL)),
      InferenceSession.create(join(hfDir, HF_TEXT_MODEL)),
      InferenceSession.create(join(hfDir, HF_VISION_MODEL)),
    ]);
  });
  afterAll(async () => {
    await Promise.all([combined.release(), text.release(), vision.release()]);
  });

  it('has exactly the documented inputs and outputs (names, dtypes, dynamic axes)', () => {
    const strip = (m: readonly InferenceSession.ValueMetadata[]) =>
      m.map((v) => (v.isTensor ? { name: v.name, type: v.type, shape: v.shape } : { name: v.name }));
    expect(strip(combined.inputMetadata)).toEqual([
      { name: 'input_ids', type: 'int64', shape: ['text_batch_size', 'sequence_length'] },
      { name: 'pixel_values', type: 'float32', shape: ['image_batch_size', 3, 224, 224] },
      { name: 'attention_mask', type: 'int64', shape: ['text_batch_size', 'sequence_length'] },
    ]);
    expect(strip(combined.outputMetadata)).toEqual([
      { name: 'logits_per_image', type: 'float32', shape: ['image_batch_size', 'text_batch_size'] },
      { name: 'logits_per_text', type: 'float32', shape: ['text_batch_size', 'image_batch_size'] },
      { name: 'text_embeds', type: 'float32', shape: ['text_batch_size', EMBED_DIM] },
      { name: 'image_embeds', type: 'float32', shape: ['image_batch_size', EMBED_DIM] },
    ]);
  });

  it('4 texts × 2 images: normalised split embeddings, logits = 100 · cosine, logits_per_image = logits_per_textᵀ', async () => {
    const length = Math.max(...TEXTS.map((t) => t.length));
    const ids = TEXTS.map((t) => padded(t, length));
    const mask = TEXTS.map((t) => Array.from({ length }, (_, i) => (i < t.length ? 1 : 0)));
    const pixels = randomPixelBatch(2, seededRandom(5));
    const out = await combined.run({
      input_ids: int64Batch(ids),
      pixel_values: new Tensor('float32', pixels, [2, 3, 224, 224]),
      attention_mask: int64Batch(mask),
    });
    expect(Object.keys(out).sort()).toEqual(['image_embeds', 'logits_per_image', 'logits_per_text', 'text_embeds']);
    expect(out.text_embeds?.dims).toEqual([TEXTS.length, EMBED_DIM]);
    expect(out.image_embeds?.dims).toEqual([2, EMBED_DIM]);
    expect(out.logits_per_text?.dims).toEqual([TEXTS.length, 2]);
    expect(out.logits_per_image?.dims).toEqual([2, TEXTS.length]);

    const texts = rowsOf(out.text_embeds!);
    const images = rowsOf(out.image_embeds!);
    for (const row of [...texts, ...images]) expect(Math.hypot(...row)).toBeCloseTo(1, 5);
    // Same weights as the split files: the split embeddings, normalised.
    const splitTexts = rowsOf((await text.run({ input_ids: int64Batch(ids) })).text_embeds!);
    const splitImages = rowsOf((await vision.run({ pixel_values: new Tensor('float32', pixels, [2, 3, 224, 224]) })).image_embeds!);
    texts.forEach((row, i) => expect(maxAbsDiff(row, l2(splitTexts[i]!))).toBeLessThan(1e-5));
    images.forEach((row, i) => expect(maxAbsDiff(row, l2(splitImages[i]!))).toBeLessThan(1e-5));

    expect(Math.exp(Math.fround(HF_LOGIT_SCALE))).toBeCloseTo(100, 4);
    const perText = out.logits_per_text!.data as Float32Array;
    const perImage = out.logits_per_image!.data as Float32Array;
    let spread = 0;
    for (let t = 0; t < TEXTS.length; t++) {
      for (let i = 0; i < 2; i++) {
        const logit = perText[t * 2 + i]!;
        expect(Math.abs(logit - 100 * dot(texts[t]!, images[i]!))).toBeLessThan(1e-3);
        expect(perImage[i * TEXTS.length + t]).toBe(logit);
        spread = Math.max(spread, Math.abs(logit - perText[0]!));
      }
    }
    expect(spread).toBeGreaterThan(1e-3); // the logits are not all the same number
  });

  it('takes independent text and image batch sizes, and ignores attention_mask', async () => {
    const length = TEXTS[0]!.length;
    const feeds = (mask: number[][], images: number) => ({
      input_ids: int64Batch([TEXTS[0]!]),
      pixel_values: new Tensor('float32', randomPixelBatch(images, seededRandom(6)), [images, 3, 224, 224]),
      attention_mask: int64Batch(mask),
    });
    const ones = await combined.run(feeds([Array<number>(length).fill(1)], 3));
    expect(ones.logits_per_text?.dims).toEqual([1, 3]);
    expect(ones.logits_per_image?.dims).toEqual([3, 1]);
    const zeros = await combined.run(feeds([Array<number>(length).fill(0)], 3));
    expect(maxAbsDiff(zeros.text_embeds!.data as Float32Array, ones.text_embeds!.data as Float32Array)).toBe(0);
  });
});

describe('loadClip on the combined model', () => {
  let split: Clip;
  let combined: Clip;
  let images: Uint8Array[];
  beforeAll(async () => {
    [split, combined] = await Promise.all([loadClip(hfDir, { device: 'cpu' }), loadClip(combinedDir, { device: 'cpu' })]);
    const random = seededRandom(9);
    const noise = Buffer.from(Uint8Array.from({ length: 180 * 260 * 3 }, () => Math.floor(random() * 256)));
    images = (
      await Promise.all([
        sharp({ create: { width: 300, height: 200, channels: 3, background: '#3a7' } }).jpeg().toBuffer(),
        sharp(noise, { raw: { width: 180, height: 260, channels: 3 } }).png().toBuffer(),
      ])
    ).map((b) => new Uint8Array(b));
  });
  afterAll(async () => {
    await split.close();
    await combined.close();
  });

  it('reads the layout and sizes from the files', () => {
    expect(combined.layout).toBe('hf');
    expect(split.layout).toBe('hf');
    expect(combined.dim).toBe(EMBED_DIM);
    expect(combined.imageSize).toBe(224);
    expect(combined.logitScale).toBe(split.logitScale);
  });

  it('embeds a batch of texts of different lengths as the split model does', async () => {
    const texts = ['a photo of a cat', 'dog', '', 'sunset over snowy mountains with a lake and a small wooden cabin', 'an extremely long caption '.repeat(30)];
    const [a, b] = await Promise.all([split.embedTexts(texts), combined.embedTexts(texts)]);
    expect(b).toHaveLength(texts.length);
    b.forEach((v, i) => {
      expect(v.length).toBe(EMBED_DIM);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
      expect(cosine(v, a[i]!)).toBeGreaterThan(0.99999);
    });
    expect(cosine(b[0]!, b[1]!)).toBeLessThan(0.9999); // different texts, different embeddings
    // A text alone gets the embedding it gets in the batch.
    const [alone] = await combined.embedTexts([texts[3]!]);
    expect(cosine(alone!, b[3]!)).toBeGreaterThan(0.99999);
  });

  it('embeds a batch of 2 images as the split model does', async () => {
    const [a, b] = await Promise.all([split.embedImages(images), combined.embedImages(images)]);
    expect(b).toHaveLength(2);
    b.forEach((v, i) => {
      expect(v.length).toBe(EMBED_DIM);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
      expect(cosine(v, a[i]!)).toBeGreaterThan(0.99999);
    });
    expect(cosine(b[0]!, b[1]!)).toBeLessThan(0.9999);
  });
});
