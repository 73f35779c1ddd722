/**
 * Pieces of embedder/model-gen below the files: the seeded weights, the ONNX
 * serialisation, the full-size ViT-B/32 graph (shapes only, no weights), and
 * the tower graphs' arithmetic, checked against PyTorch: with the weights of
 * the PyTorch-exported tiny fixtures loaded into them, they must reproduce the
 * fixtures' reference embeddings.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { collectBytes } from '../../common/bytes.ts';
import { ARCHS } from '../../embedder/model-gen/arch.ts';
import { GraphBuilder, type GraphSpec } from '../../embedder/model-gen/graph-builder.ts';
import { modelSpec, type LayoutContext } from '../../embedder/model-gen/layout-common.ts';
import { hfTextGraph, hfVisionGraph } from '../../embedder/model-gen/layout-hf.ts';
import { immichTextGraph, immichVisionGraph } from '../../embedder/model-gen/layout-immich.ts';
import { encodeModel, modelByteLength, type ModelSpec } from '../../embedder/model-gen/onnx-writer.ts';
import { DataType, ModelProto } from '../../embedder/onnx/onnx-proto.ts';
import { fillNormalish, Sfc32 } from '../../embedder/model-gen/prng.ts';
import { concatColumns, elementCount, floatParam, type TensorSource } from '../../embedder/model-gen/tensor-source.ts';
import { describeWithShared } from '../support/shared-fixtures.ts';
import { cosine } from '../support/vectors.ts';

/** The source's bytes; collectBytes refuses a source that writes more or fewer than it announces. */
const bytesOf = (source: TensorSource): Uint8Array => collectBytes(source.byteLength, (sink) => source.writeTo(sink));

function floatsOf(source: TensorSource): Float32Array {
  return new Float32Array(bytesOf(source).buffer);
}

function sameBytes(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function spec(graph: GraphSpec): ModelSpec {
  const context: LayoutContext = { arch: ARCHS.tiny, seed: 0, dir: '', tokenizer: {} };
  return modelSpec(graph, context, 'hf', 'text');
}

describe('seeded weights', () => {
  it('are reproducible per (seed, stream) and roughly N(0, std²)', () => {
    const draw = (seed: number, stream: string) => {
      const out = new Float32Array(100_000);
      fillNormalish(new Sfc32(seed, stream), out, 0.5);
      return out;
    };
    const a = draw(1, 'w');
    expect(sameBytes(draw(1, 'w'), a)).toBe(true);
    expect(sameBytes(draw(2, 'w'), a)).toBe(false);
    expect(sameBytes(draw(1, 'v'), a)).toBe(false);
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(std).toBeGreaterThan(0.49);
    expect(std).toBeLessThan(0.51);
  });

  it('stream in chunks identical to one fill, and a packed QKV holds exactly the separate Q, K, V', () => {
    const part = (name: string) => ({ dims: [3, 1500], init: { kind: 'normal', std: 1 } as const, stream: name });
    const packed = floatsOf(concatColumns([part('q'), part('k'), part('v')], 5));
    const separate = ['q', 'k', 'v'].map((n) => floatsOf(floatParam(part(n), 5)));
    for (let row = 0; row < 3; row++) {
      separate.forEach((values, i) => {
        const start = row * 4500 + i * 1500;
        expect(sameBytes(packed.subarray(start, start + 1500), values.subarray(row * 1500, (row + 1) * 1500))).toBe(true);
      });
    }
    const big = { dims: [1 << 21], init: { kind: 'normal', std: 1 } as const, stream: 'big' };
    const whole = new Float32Array(1 << 21);
    fillNormalish(new Sfc32(5, 'big'), whole, 1);
    expect(sameBytes(floatsOf(floatParam(big, 5)), whole)).toBe(true);
  });
});

describe('ONNX serialisation', () => {
  it('round-trips through protobuf and runs in onnxruntime', async () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', DataType.FLOAT, ['n', 3]);
    const w = b.initializer('w', floatParam({ dims: [3, 2], init: { kind: 'normal', std: 1 }, stream: 'w' }, 1));
    b.op1('MatMul', [x, w], {}, 'y');
    b.output('y', DataType.FLOAT, ['n', 2]);
    const model = spec(b.build());
    const bytes = encodeModel(model);
    expect(bytes.length).toBe(modelByteLength(model));
    const decoded = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number }) as {
      ir_version: number;
      opset_import: { version: number }[];
      graph: { initializer: { name: string; dims: number[]; raw_data: Uint8Array }[]; node: { op_type: string }[] };
    };
    expect(decoded.ir_version).toBe(7);
    expect(decoded.opset_import[0]?.version).toBe(14);
    expect(decoded.graph.node.map((n) => n.op_type)).toEqual(['MatMul']);
    const weights = floatsOf(floatParam({ dims: [3, 2], init: { kind: 'normal', std: 1 }, stream: 'w' }, 1));
    expect(decoded.graph.initializer[0]?.dims).toEqual([3, 2]);
    expect(new Float32Array(Uint8Array.from(decoded.graph.initializer[0]!.raw_data).buffer)).toEqual(weights);

    const session = await InferenceSession.create(bytes);
    const out = await session.run({ x: new Tensor('float32', Float32Array.from([1, 0, 0, 0, 0, 1]), [2, 3]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([weights[0], weights[1], weights[4], weights[5]]);
    await session.release();
  });
});

describe('vit-b-32 graphs (shapes only, no weights generated)', () => {
  const arch = ARCHS['vit-b-32'];
  const parameterCount = (graph: GraphSpec) =>
    graph.initializers.filter((i) => !i.name.startsWith('const_')).reduce((n, i) => n + elementCount(i.source.dims), 0);
  const dimsOf = (graph: GraphSpec) => new Map(graph.initializers.map((i) => [i.name, i.source.dims]));

  it('has the parameter count and tensor shapes of openai/clip-vit-base-patch32', () => {
    const text = hfTextGraph(arch, 0);
    const vision = hfVisionGraph(arch, 0);
    // 151,277,313 parameters in CLIP ViT-B/32, minus logit_scale (not part of the towers).
    expect(parameterCount(text) + parameterCount(vision)).toBe(151_277_312);
    expect(parameterCount(immichTextGraph(arch, 0)) + parameterCount(immichVisionGraph(arch, 0))).toBe(151_277_312);
    const t = dimsOf(text);
    expect(t.get('text_model.embeddings.token_embedding.weight')).toEqual([49408, 512]);
    expect(t.get('text_model.embeddings.position_embedding.weight')).toEqual([77, 512]);
    expect(t.get('text_model.encoder.layers.11.mlp.fc1.weight')).toEqual([512, 2048]);
    expect(t.get('text_projection.weight')).toEqual([512, 512]);
    const v = dimsOf(vision);
    expect(v.get('vision_model.embeddings.patch_embedding.weight')).toEqual([768, 3, 32, 32]);
    expect(v.get('vision_model.embeddings.position_embedding.weight')).toEqual([50, 768]);
    expect(v.get('vision_model.encoder.layers.11.self_attn.q_proj.weight')).toEqual([768, 768]);
    expect(v.get('visual_projection.weight')).toEqual([768, 512]);
    expect(dimsOf(immichVisionGraph(arch, 0)).get('visual.transformer.resblocks.0.attn.in_proj_weight')).toEqual([768, 2304]);
    expect(text.outputs.map((o) => [o.name, o.dims])).toEqual([
      ['text_embeds', ['batch_size', 512]],
      ['last_hidden_state', ['batch_size', 'sequence_length', 512]],
    ]);
    expect(vision.outputs.map((o) => [o.name, o.dims])).toEqual([
      ['image_embeds', ['batch_size', 512]],
      ['last_hidden_state', ['batch_size', 50, 768]],
    ]);
    // ~254 MB and ~352 MB of float32, as the Xenova files.
    expect(modelByteLength(spec(text)) / 1e6).toBeCloseTo(253.7, 0);
    expect(modelByteLength(spec(vision)) / 1e6).toBeCloseTo(351.4, 0);
  });
});

// ---- The graphs against PyTorch, through the fixtures' weights ----

interface FixtureTensor {
  name: string;
  dims: number[];
  raw_data: Uint8Array;
}
interface FixtureGraph {
  initializer: FixtureTensor[];
  node: { op_type: string; name: string; input: string[]; output: string[] }[];
}

/**
 * The fixture's weights under the generator's logical names. The fixture is a
 * CLIP written by the PyTorch exporter; its MatMul weights are already [in, out]
 * and named after the node that uses them, LayerNorm weights may be aliases.
 */
function fixtureWeights(path: string, tower: 'text' | 'vision'): Map<string, Float32Array> {
  const graph = (ModelProto.toObject(ModelProto.decode(readFileSync(path))) as { graph: FixtureGraph }).graph;
  const tensors = new Map(graph.initializer.map((t) => [t.name, new Float32Array(Uint8Array.from(t.raw_data).buffer)]));
  for (const node of graph.node) {
    if (node.op_type === 'Identity' && tensors.has(node.input[0]!)) tensors.set(node.output[0]!, tensors.get(node.input[0]!)!);
  }
  const matmul = (nodeName: string) => {
    const node = graph.node.find((n) => n.name === nodeName);
    const weight = node && tensors.get(node.input[1]!);
    if (!weight) throw new Error(`no MatMul ${nodeName}`);
    return weight;
  };
  const tensor = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`no tensor ${name}`);
    return t;
  };
  const out = new Map<string, Float32Array>();
  const ln = (logical: string, name: string) => {
    out.set(`${logical}.weight`, tensor(`${name}.weight`));
    out.set(`${logical}.bias`, tensor(`${name}.bias`));
  };
  for (let i = 0; i < 2; i++) {
    const p = `${tower}.blocks.${i}`;
    ln(`${p}.ln_1`, `blocks.${i}.ln1`);
    ln(`${p}.ln_2`, `blocks.${i}.ln2`);
    for (const [ours, theirs] of [['q', 'q'], ['k', 'k'], ['v', 'v'], ['out', 'o']] as const) {
      out.set(`${p}.attn.${ours}.weight`, matmul(`/blocks.${i}/attn/${theirs}/MatMul`));
      out.set(`${p}.attn.${ours}.bias`, tensor(`blocks.${i}.attn.${theirs}.bias`));
    }
    for (const [ours, theirs] of [['fc', '0'], ['proj', '2']] as const) {
      out.set(`${p}.mlp.${ours}.weight`, matmul(`/blocks.${i}/mlp/mlp.${theirs}/MatMul`));
      out.set(`${p}.mlp.${ours}.bias`, tensor(`blocks.${i}.mlp.${theirs}.bias`));
    }
  }
  out.set(`${tower}.projection`, matmul('/proj/MatMul'));
  if (tower === 'text') {
    out.set('text.token_embedding', tensor('tok.weight'));
    out.set('text.positional_embedding', tensor('pos'));
    ln('text.ln_final', 'ln');
  } else {
    out.set('vision.patch_embedding', tensor('conv.weight'));
    out.set('vision.class_embedding', tensor('cls'));
    out.set('vision.positional_embedding', tensor('pos'));
    ln('vision.ln_pre', 'pre');
    ln('vision.ln_post', 'post');
  }
  return out;
}


describeWithShared('tower graphs with the PyTorch fixtures\' weights', ['fixtures/exported-models', 'fixtures/clip-preprocess'], (exported, preprocessed) => {
  interface References {
    texts: { ids: number[]; embedding: number[] }[];
    images: { file: string; embedding: number[] }[];
  }
  const load = () => {
    const references = JSON.parse(readFileSync(join(exported, 'tiny-hf/reference-embeddings.json'), 'utf8')) as References;
    const manifest = JSON.parse(readFileSync(join(preprocessed, 'manifest.json'), 'utf8')) as { cases: { file: string; reference: string }[] };
    const text = fixtureWeights(join(exported, 'tiny-hf/onnx/text_model.onnx'), 'text');
    const vision = fixtureWeights(join(exported, 'tiny-hf/onnx/vision_model.onnx'), 'vision');
    const pixels = (file: string) => {
      const reference = manifest.cases.find((c) => c.file === file)?.reference;
      if (!reference) throw new Error(`no preprocessed tensor for ${file}`);
      return new Float32Array(Uint8Array.from(readFileSync(join(preprocessed, reference))).buffer);
    };
    return { references, text, vision, pixels };
  };

  it('HF layout graphs reproduce the reference embeddings (cosine > 0.99999)', async () => {
    const { references, text, vision, pixels } = load();
    const textSession = await InferenceSession.create(encodeModel(spec(hfTextGraph(ARCHS.tiny, 0, text))));
    const rows = references.texts.map((t) => [...t.ids, ...Array<number>(77 - t.ids.length).fill(49407)]);
    const textOut = (await textSession.run({
      input_ids: new Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, 77]),
    })).text_embeds!;
    references.texts.forEach((t, i) => {
      expect(cosine((textOut.data as Float32Array).slice(i * 32, (i + 1) * 32), t.embedding)).toBeGreaterThan(0.99999);
    });
    const visionSession = await InferenceSession.create(encodeModel(spec(hfVisionGraph(ARCHS.tiny, 0, vision))));
    for (const image of references.images) {
      const out = await visionSession.run({ pixel_values: new Tensor('float32', pixels(image.file), [1, 3, 224, 224]) });
      expect(cosine(out.image_embeds!.data as Float32Array, image.embedding)).toBeGreaterThan(0.99999);
    }
    await Promise.all([textSession.release(), visionSession.release()]);
  });

  it('Immich layout graphs (packed QKV, int32, normalised) reproduce them too', async () => {
    const { references, text, vision, pixels } = load();
    const textSession = await InferenceSession.create(encodeModel(spec(immichTextGraph(ARCHS.tiny, 0, text))));
    for (const t of references.texts) {
      const ids = Int32Array.from([...t.ids, ...Array<number>(77 - t.ids.length).fill(49407)]);
      const embedding = (await textSession.run({ text: new Tensor('int32', ids, [1, 77]) })).embedding!.data as Float32Array;
      expect(cosine(embedding, t.embedding)).toBeGreaterThan(0.99999);
      embedding.forEach((x, j) => expect(Math.abs(x - (t.embedding[j] ?? 0))).toBeLessThan(1e-4));
    }
    const visionSession = await InferenceSession.create(encodeModel(spec(immichVisionGraph(ARCHS.tiny, 0, vision))));
    for (const image of references.images) {
      const out = await visionSession.run({ image: new Tensor('float32', pixels(image.file), [1, 3, 224, 224]) });
      expect(cosine(out.embedding!.data as Float32Array, image.embedding)).toBeGreaterThan(0.99999);
    }
    await Promise.all([textSession.release(), visionSession.release()]);
  });
});
