// The graph rewrite that runs the last block's row-wise steps on the pooled
// token only (class token for images, end-of-text token for texts): same
// embeddings as the exported graphs, the full-size steps gone, weights copied
// byte for byte, and the graphs it does not fit left alone.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceSession } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClip, type Clip } from '../../embedder/index.ts';
import { generate } from '../../embedder/model-gen/generate.ts';
import { decodeNode, FieldNumber } from '../../embedder/onnx/onnx-proto.ts';
import { readFields } from '../../embedder/onnx/protobuf-wire.ts';
import { gatherPooledRowEarly } from '../../embedder/runtime/pooled-rows.ts';
import { temporaryDirectory } from '../support/files.ts';
import { photoJpeg } from '../support/photo.ts';
import { describeWithShared } from '../support/shared-fixtures.ts';

const generated = temporaryDirectory('pooled-rows-');
generate({ arch: 'tiny', outDir: generated, seed: 11 });

interface Files {
  vision: readonly [file: string, output: string];
  text: readonly [file: string, output: string];
}
const HF: Files = { vision: ['onnx/vision_model.onnx', 'image_embeds'], text: ['onnx/text_model.onnx', 'text_embeds'] };
const IMMICH: Files = { vision: ['visual/model.onnx', 'embedding'], text: ['textual/model.onnx', 'embedding'] };
type Model = [name: string, dir: string, files: Files];

/** Graph nodes and initializers as the wire has them. */
function graphOf(model: Uint8Array) {
  const graph = readFields(readFields(model).find((f) => f.no === FieldNumber.modelGraph)!.payload!);
  return {
    nodes: graph.filter((f) => f.no === FieldNumber.graphNode).map((f) => decodeNode(f.payload!)),
    /** Each initializer's bytes (hashed) by its data type. */
    initializers: graph
      .filter((f) => f.no === FieldNumber.graphInitializer)
      .map((f) => ({ type: readFields(f.payload!).find((t) => t.no === FieldNumber.tensorDataType)?.value, sha256: createHash('sha256').update(f.raw).digest('hex') })),
    outputs: graph.filter((f) => f.no === FieldNumber.graphOutput).length,
  };
}

/** The rewrite on one model directory, against the same model run as exported. */
function rewriteOf(_name: string, dir: string, files: Files): void {
  let rewritten: Clip;
  let asExported: Clip;
  beforeAll(async () => {
    [rewritten, asExported] = await Promise.all([loadClip(dir), loadClip(dir, { pooledRowEarly: false })]);
  });
  afterAll(async () => {
    await rewritten?.close();
    await asExported?.close();
  });

  it('runs both rewritten graphs and says so', () => {
    for (const tower of ['text', 'vision'] as const)
      expect(rewritten.graphs[tower]).toMatch(new RegExp(`^${tower} graph: the pooled row is gathered before the last \\d+ row-wise steps \\(3 MatMul\\), max difference 0$`));
    expect(asExported.graphs).toEqual({ text: 'text graph kept as exported', vision: 'vision graph kept as exported' });
  });

  it('gives the exported graphs’ image and text embeddings, bit for bit', async () => {
    const images = await Promise.all([1, 2, 3].map((seed) => photoJpeg(320, 240, { seed })));
    expect(await rewritten.embedImages(images)).toEqual(await asExported.embedImages(images));
    // Texts of different lengths: the end-of-text token sits at a different row in each.
    const texts = ['cat', 'a red bicycle leaning on a wall', 'an old lighthouse on a rocky cliff at dusk, waves below', ''];
    expect(await rewritten.embedTexts(texts)).toEqual(await asExported.embedTexts(texts));
  });

  it.each(['vision', 'text'] as const)(
    'moves the last %s block’s row-wise MatMuls onto the pooled row, leaving none at full size, and copies every weight byte for byte',
    (tower) => {
      const [file, output] = files[tower];
      const original = new Uint8Array(readFileSync(join(dir, file)));
      const before = graphOf(original);
      const after = graphOf(gatherPooledRowEarly(original, output)!.model);
      // Every weight kept byte for byte; only an integer shape constant of the dropped originals may go.
      const FLOAT = 1;
      expect(before.initializers).toEqual(expect.arrayContaining(after.initializers));
      expect(after.initializers).toEqual(expect.arrayContaining(before.initializers.filter((i) => i.type === FLOAT)));
      expect(after.outputs).toBe(1);
      // Same number of MatMul nodes: the three moved, none left behind at full size.
      const matmuls = (g: typeof before) => g.nodes.filter((n) => n.op_type === 'MatMul').length;
      expect(matmuls(after)).toBe(matmuls(before));
      expect(after.nodes.filter((n) => n.op_type === 'Gather' && n.input.some((i) => i.includes('@'))).length).toBeGreaterThanOrEqual(3);
    },
  );
}

describe.each<Model>([
  ['generated Hugging Face layout', join(generated, 'tiny-hf'), HF],
  ['generated OpenCLIP/Immich layout', join(generated, 'tiny-immich'), IMMICH],
])('%s', rewriteOf);

describeWithShared('the PyTorch-exported models', ['fixtures/exported-models'], (exported) => {
  describe.each<Model>([
    ['Hugging Face layout', join(exported, 'tiny-hf'), HF],
    ['OpenCLIP/Immich layout', join(exported, 'tiny-immich'), IMMICH],
  ])('%s', rewriteOf);
});

describe('graphs the rewrite does not fit', () => {
  it('leaves a graph alone when the named output is not there', () => {
    expect(gatherPooledRowEarly(new Uint8Array(readFileSync(join(generated, 'tiny-hf/onnx/vision_model.onnx'))), 'no_such_output')).toBeNull();
  });

  it('rejects bytes that are not a protobuf message', () => {
    expect(() => gatherPooledRowEarly(Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f), 'image_embeds')).toThrow(/truncated/);
    expect(gatherPooledRowEarly(new Uint8Array(0), 'image_embeds')).toBeNull();
  });

  it('opens in ONNX Runtime with only the embedding output', async () => {
    const original = new Uint8Array(readFileSync(join(generated, 'tiny-hf/onnx/vision_model.onnx')));
    const session = await InferenceSession.create(gatherPooledRowEarly(original, 'image_embeds')!.model);
    expect(session.outputNames).toEqual(['image_embeds']);
    await session.release();
  });
});
