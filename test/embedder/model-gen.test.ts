/**
 * The tiny random CLIP from embedder/model-gen: written in both layouts, every
 * ONNX file runs in onnxruntime-node, its I/O matches the PyTorch-exported
 * fixtures, the same seed gives the same bytes, and CLIP's end-token pooling
 * makes padding irrelevant.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, HF_TEXT_MODEL, HF_VISION_MODEL, IMMICH_TEXT_MODEL, IMMICH_VISION_MODEL } from '../../embedder/model-gen/generate.ts';
import { listFiles } from '../support/files.ts';
import { seededRandom } from '../support/random.ts';
import { describeWithShared } from '../support/shared-fixtures.ts';
import { CLIP_EOT, CLIP_SOT, int64Batch, padded, randomPixelBatch, rowsOf } from '../support/vectors.ts';

const SOT = CLIP_SOT;
const EOT = CLIP_EOT;
const CONTEXT = 77;
const EMBED_DIM = 32;
const WIDTH = 64;
const IMAGE = 3 * 224 * 224;

/** Token ids of a few texts (SOT … EOT), of different lengths. */
const TEXTS: number[][] = [
  [SOT, 320, 1125, 539, 320, 2368, EOT],
  [SOT, 3424, 962, 5873, EOT],
  [SOT, EOT],
  [SOT, 3306, 267, 1002, 256, 829, 631, 592, 286, 1200, 3601, 267, EOT],
];




function l2(v: Float32Array): Float32Array {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - (b[i] ?? Number.NaN))), 0);
}

function expectFinite(tensor: Tensor): void {
  expect(tensor.type).toBe('float32');
  expect(Array.from(tensor.data as Float32Array).every(Number.isFinite)).toBe(true);
}



interface Signature {
  inputs: unknown[];
  outputs: unknown[];
}

function signature(session: InferenceSession): Signature {
  const strip = (m: readonly InferenceSession.ValueMetadata[]) =>
    m.map((v) => (v.isTensor ? { name: v.name, type: v.type, shape: v.shape } : { name: v.name }));
  return { inputs: strip(session.inputMetadata), outputs: strip(session.outputMetadata) };
}

let root: string;
let hfDir: string;
let immichDir: string;
const sessions: InferenceSession[] = [];

async function open(path: string): Promise<InferenceSession> {
  const session = await InferenceSession.create(path);
  sessions.push(session);
  return session;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'model-gen-'));
  const results = generate({ arch: 'tiny', seed: 7, outDir: join(root, 'a') });
  expect(results.map((r) => r.layout)).toEqual(['hf', 'immich']);
  [hfDir, immichDir] = results.map((r) => r.dir) as [string, string];
});

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.release()));
  rmSync(root, { recursive: true, force: true });
});

describe('layout files', () => {
  it('writes the Hugging Face / Xenova layout', () => {
    expect(listFiles(hfDir)).toEqual([
      'config.json',
      'merges.txt',
      HF_TEXT_MODEL,
      HF_VISION_MODEL,
      'preprocessor_config.json',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'vocab.json',
    ].sort());
    const config = JSON.parse(readFileSync(join(hfDir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      model_type: 'clip',
      projection_dim: EMBED_DIM,
      text_config: { hidden_size: WIDTH, vocab_size: 49408, max_position_embeddings: CONTEXT, eos_token_id: EOT },
      vision_config: { hidden_size: WIDTH, image_size: 224, patch_size: 32 },
    });
    const preprocessor = JSON.parse(readFileSync(join(hfDir, 'preprocessor_config.json'), 'utf8'));
    expect(preprocessor).toMatchObject({ crop_size: { height: 224, width: 224 }, size: { shortest_edge: 224 }, resample: 3 });
  });

  it('writes the OpenCLIP / Immich layout', () => {
    expect(listFiles(immichDir)).toEqual([
      'config.json',
      'textual/merges.txt',
      IMMICH_TEXT_MODEL,
      'textual/special_tokens_map.json',
      'textual/tokenizer.json',
      'textual/tokenizer_config.json',
      'textual/vocab.json',
      IMMICH_VISION_MODEL,
      'visual/preprocess_cfg.json',
    ].sort());
    const config = JSON.parse(readFileSync(join(immichDir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      embed_dim: EMBED_DIM,
      vision_cfg: { image_size: 224, layers: 2, width: WIDTH, patch_size: 32 },
      text_cfg: { context_length: CONTEXT, vocab_size: 49408, width: WIDTH, heads: 2, layers: 2 },
    });
    const preprocess = JSON.parse(readFileSync(join(immichDir, 'visual/preprocess_cfg.json'), 'utf8'));
    expect(preprocess).toMatchObject({ size: [224, 224], mode: 'RGB', interpolation: 'bicubic', resize_mode: 'shortest' });
  });

  it('writes a tokenizer that @huggingface/tokenizers loads, with CLIP special ids', async () => {
    const { Tokenizer } = await import('@huggingface/tokenizers');
    const read = (name: string) => JSON.parse(readFileSync(join(hfDir, name), 'utf8'));
    const tokenizer = new Tokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
    const ids = tokenizer.encode('A photo of a cat!').ids;
    expect(ids[0]).toBe(SOT);
    expect(ids.at(-1)).toBe(EOT);
    expect(ids.slice(1, -1).every((id: number) => id < SOT)).toBe(true);
    expect(ids).toContain(320); // "a</w>" has CLIP's id
    expect(tokenizer.encode('').ids).toEqual([SOT, EOT]);
    expect(readFileSync(join(immichDir, 'textual/tokenizer.json'))).toEqual(readFileSync(join(hfDir, 'tokenizer.json')));
  });
});

describe('Hugging Face text_model.onnx', () => {
  let session: InferenceSession;
  beforeAll(async () => {
    session = await open(join(hfDir, HF_TEXT_MODEL));
  });

  it('embeds a padded batch: [batch, 32] text_embeds and [batch, seq, 64] last_hidden_state', async () => {
    const length = Math.max(...TEXTS.map((t) => t.length));
    const out = await session.run({ input_ids: int64Batch(TEXTS.map((t) => padded(t, length))) });
    expect(Object.keys(out).sort()).toEqual(['last_hidden_state', 'text_embeds']);
    expect(out.text_embeds?.dims).toEqual([TEXTS.length, EMBED_DIM]);
    expect(out.last_hidden_state?.dims).toEqual([TEXTS.length, length, WIDTH]);
    expectFinite(out.text_embeds!);
    expectFinite(out.last_hidden_state!);
    const rows = rowsOf(out.text_embeds!);
    // Projected, not normalised; and different texts give different embeddings.
    expect(rows.some((r) => Math.abs(Math.hypot(...r) - 1) > 1e-3)).toBe(true);
    expect(maxAbsDiff(rows[0]!, rows[1]!)).toBeGreaterThan(1e-3);
  });

  it('pools at the end token: padding length, pad value and tokens after EOT do not change the embedding', async () => {
    const embed = async (rows: number[][]) => rowsOf((await session.run({ input_ids: int64Batch(rows) })).text_embeds!);
    const shortest = Math.max(...TEXTS.map((t) => t.length));
    const reference = await embed(TEXTS.map((t) => padded(t, shortest)));
    const variants = [
      TEXTS.map((t) => padded(t, CONTEXT)), // padded to the context length with EOT (HF)
      TEXTS.map((t) => padded(t, 20, 0)), // padded with 0 (openai / open_clip)
      TEXTS.map((t) => [...padded(t, shortest), 5, 400, 49000, 1].slice(0, shortest + 4)), // junk after EOT
    ];
    for (const rows of variants) {
      const embeddings = await embed(rows);
      embeddings.forEach((e, i) => expect(maxAbsDiff(e, reference[i]!)).toBeLessThan(1e-5));
    }
    // Alone in its batch, a text gets the same embedding as in a batch.
    const [single] = await embed([TEXTS[1]!]);
    expect(maxAbsDiff(single!, reference[1]!)).toBeLessThan(1e-5);
    // A token before the EOT does change it.
    const changed = [...TEXTS[0]!];
    changed[2] = 9999;
    const [other] = await embed([padded(changed, shortest)]);
    expect(maxAbsDiff(other!, reference[0]!)).toBeGreaterThan(1e-3);
  });
});

describe('Hugging Face vision_model.onnx', () => {
  it('embeds a batch of two images: [2, 32] image_embeds and [2, 50, 64] last_hidden_state', async () => {
    const session = await open(join(hfDir, HF_VISION_MODEL));
    const out = await session.run({ pixel_values: new Tensor('float32', randomPixelBatch(2, seededRandom(1)), [2, 3, 224, 224]) });
    expect(out.image_embeds?.dims).toEqual([2, EMBED_DIM]);
    expect(out.last_hidden_state?.dims).toEqual([2, 50, WIDTH]);
    expectFinite(out.image_embeds!);
    expectFinite(out.last_hidden_state!);
    const [a, b] = rowsOf(out.image_embeds!);
    expect(maxAbsDiff(a!, b!)).toBeGreaterThan(1e-4);
  });
});

describe('Immich models (batch 1, normalised, same weights as the HF files)', () => {
  it('textual/model.onnx: int32 [1, 77] → normalised [1, 32] equal to the HF text embedding', async () => {
    const immich = await open(join(immichDir, IMMICH_TEXT_MODEL));
    const hf = await open(join(hfDir, HF_TEXT_MODEL));
    const hfRows = rowsOf((await hf.run({ input_ids: int64Batch(TEXTS.map((t) => padded(t, CONTEXT))) })).text_embeds!);
    for (const [i, ids] of TEXTS.entries()) {
      const out = await immich.run({ text: new Tensor('int32', Int32Array.from(padded(ids, CONTEXT)), [1, CONTEXT]) });
      const embedding = out.embedding!;
      expect(embedding.dims).toEqual([1, EMBED_DIM]);
      expectFinite(embedding);
      const [row] = rowsOf(embedding);
      expect(Math.hypot(...row!)).toBeCloseTo(1, 5);
      expect(maxAbsDiff(row!, l2(hfRows[i]!))).toBeLessThan(1e-5);
    }
  });

  it('visual/model.onnx: float32 [1, 3, 224, 224] → normalised [1, 32] equal to the HF image embedding', async () => {
    const immich = await open(join(immichDir, IMMICH_VISION_MODEL));
    const hf = await open(join(hfDir, HF_VISION_MODEL));
    const pixels = randomPixelBatch(2, seededRandom(2));
    const hfRows = rowsOf((await hf.run({ pixel_values: new Tensor('float32', pixels, [2, 3, 224, 224]) })).image_embeds!);
    for (let i = 0; i < 2; i++) {
      const image = new Tensor('float32', pixels.slice(i * IMAGE, (i + 1) * IMAGE), [1, 3, 224, 224]);
      const [row] = rowsOf((await immich.run({ image })).embedding!);
      expect(Math.hypot(...row!)).toBeCloseTo(1, 5);
      expect(maxAbsDiff(row!, l2(hfRows[i]!))).toBeLessThan(1e-5);
    }
  });
});

describe('determinism', () => {
  it('the same seed gives byte-identical files; another seed other weights', () => {
    const again = generate({ arch: 'tiny', seed: 7, outDir: join(root, 'b') });
    const other = generate({ arch: 'tiny', seed: 8, outDir: join(root, 'c'), layouts: ['hf'] });
    for (const result of again) {
      const first = result.layout === 'hf' ? hfDir : immichDir;
      const files = listFiles(result.dir);
      expect(files).toEqual(listFiles(first));
      for (const file of files) {
        expect(readFileSync(join(result.dir, file)).equals(readFileSync(join(first, file))), relative(root, join(result.dir, file))).toBe(true);
      }
    }
    const otherDir = other[0]!.dir;
    expect(readFileSync(join(otherDir, HF_TEXT_MODEL)).equals(readFileSync(join(hfDir, HF_TEXT_MODEL)))).toBe(false);
    expect(readFileSync(join(otherDir, 'tokenizer.json')).equals(readFileSync(join(hfDir, 'tokenizer.json')))).toBe(true);
  });
});

describeWithShared('same I/O as the PyTorch-exported fixtures', ['fixtures/exported-models'], (exported) => {
  const pairs = [
    ['tiny-hf', HF_TEXT_MODEL],
    ['tiny-hf', HF_VISION_MODEL],
    ['tiny-immich', IMMICH_TEXT_MODEL],
    ['tiny-immich', IMMICH_VISION_MODEL],
  ] as const;

  it.each(pairs)('%s/%s: input/output names, dtypes and fixed/dynamic axes', async (folder, file) => {
    const fixture = await open(join(exported, folder, file));
    const generated = await open(join(folder === 'tiny-hf' ? hfDir : immichDir, file));
    expect(signature(generated)).toEqual(signature(fixture));
  });

  it.each(['tiny-hf', 'tiny-immich'])('%s: same files and config keys', (folder) => {
    const dir = folder === 'tiny-hf' ? hfDir : immichDir;
    const fixtureFiles = listFiles(join(exported, folder)).filter((f) => f !== 'reference-embeddings.json');
    expect(listFiles(dir)).toEqual(fixtureFiles);
    const keys = (value: unknown): unknown =>
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, keys(v)]))
        : typeof value;
    const json = (base: string, file: string) => JSON.parse(readFileSync(join(base, file), 'utf8'));
    // config.json: every key of the fixture, with the same type (ours adds a few, e.g. layer_norm_eps).
    expect(keys(json(dir, 'config.json'))).toMatchObject(keys(json(join(exported, folder), 'config.json')) as object);
    const preprocess = folder === 'tiny-hf' ? 'preprocessor_config.json' : 'visual/preprocess_cfg.json';
    expect(json(dir, preprocess)).toEqual(json(join(exported, folder), preprocess));
    for (const file of ['special_tokens_map.json', 'tokenizer_config.json']) {
      const path = folder === 'tiny-hf' ? file : `textual/${file}`;
      expect(readFileSync(join(dir, path), 'utf8')).toBe(readFileSync(join(exported, folder, path), 'utf8'));
    }
  });
});
