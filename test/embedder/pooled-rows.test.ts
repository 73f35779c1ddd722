// The vision graph rewrite that runs the last block's row-wise steps on the
// pooled class token only: same embeddings as the exported graph, the
// full-size steps gone, weights copied byte for byte, and the graphs it does
// not fit left alone.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceSession } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClip, type Clip } from '../../embedder/index.ts';
import { generate } from '../../embedder/model-gen/generate.ts';
import { NodeProto } from '../../embedder/model-gen/onnx-proto.ts';
import { gatherPooledRowEarly } from '../../embedder/runtime/pooled-rows.ts';
import { readFields } from '../../embedder/runtime/protobuf-wire.ts';
import sharp from 'sharp';
import { sharedPath } from '../support/shared-fixtures.ts';

const generated = mkdtempSync(join(tmpdir(), 'pooled-rows-'));
generate({ arch: 'tiny', outDir: generated, seed: 11 });
const exported = sharedPath('fixtures/exported-models');

const HF = ['onnx/vision_model.onnx', 'image_embeds'] as const;
const IMMICH = ['visual/model.onnx', 'embedding'] as const;
const models: [string, string | undefined, (typeof HF | typeof IMMICH)][] = [
  ['generated Hugging Face layout', join(generated, 'tiny-hf'), HF],
  ['generated OpenCLIP/Immich layout', join(generated, 'tiny-immich'), IMMICH],
  ['PyTorch-exported Hugging Face layout', exported && join(exported, 'tiny-hf'), HF],
  ['PyTorch-exported OpenCLIP/Immich layout', exported && join(exported, 'tiny-immich'), IMMICH],
];

const photo = async (seed: number) =>
  new Uint8Array(await sharp({ create: { width: 320, height: 240, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 100 + seed * 20, sigma: 50 } } }).jpeg().toBuffer());

/** Graph nodes and initializers as the wire has them. */
function graphOf(model: Uint8Array) {
  const graph = readFields(readFields(model).find((f) => f.no === 7)!.payload!);
  return {
    nodes: graph.filter((f) => f.no === 1).map((f) => NodeProto.toObject(NodeProto.decode(f.payload!), { arrays: true }) as { op_type: string; input: string[] }),
    initializers: createHash('sha256')
      .update(Buffer.concat(graph.filter((f) => f.no === 5).map((f) => f.raw)))
      .digest('hex'),
    outputs: graph.filter((f) => f.no === 12).length,
  };
}

describe.each(models)('%s', (_name, dir, [visionFile, output]) => {
  let rewritten: Clip;
  let asExported: Clip;
  beforeAll(async () => {
    if (!dir) return;
    [rewritten, asExported] = await Promise.all([loadClip(dir), loadClip(dir, { pooledRowEarly: false })]);
  });
  afterAll(async () => {
    await rewritten?.close();
    await asExported?.close();
  });

  it.skipIf(!dir)('runs the rewritten vision graph and says so', () => {
    expect(rewritten.visionGraph).toMatch(/pooled row is gathered before the last \d+ row-wise steps \(3 MatMul\), max difference 0/);
    expect(asExported.visionGraph).toBe('vision graph kept as exported');
  });

  it.skipIf(!dir)('gives the exported graph’s image embeddings, bit for bit', async () => {
    const images = await Promise.all([1, 2, 3].map(photo));
    const [got, want] = await Promise.all([rewritten.embedImages(images), asExported.embedImages(images)]);
    expect(got).toEqual(want);
  });

  it.skipIf(!dir)('moves the last block’s row-wise MatMuls onto the pooled row, leaving none at full size, and copies every weight byte for byte', () => {
    const original = new Uint8Array(readFileSync(join(dir!, visionFile)));
    const before = graphOf(original);
    const after = graphOf(gatherPooledRowEarly(original, output)!.model);
    expect(after.initializers).toEqual(before.initializers);
    expect(after.outputs).toBe(1);
    // Same number of MatMul nodes: the three moved, none left behind at full size.
    const matmuls = (g: typeof before) => g.nodes.filter((n) => n.op_type === 'MatMul').length;
    expect(matmuls(after)).toBe(matmuls(before));
    const gathered = after.nodes.filter((n) => n.op_type === 'Gather' && n.input.some((i) => i.endsWith('@pooled')));
    expect(gathered.length).toBeGreaterThanOrEqual(3); // the inputs of the row-wise steps, and the final pooling
  });
});

describe('graphs the rewrite does not fit', () => {
  it('leaves a text graph (pooled by the end-of-text position) alone', () => {
    expect(gatherPooledRowEarly(new Uint8Array(readFileSync(join(generated, 'tiny-hf/onnx/text_model.onnx'))), 'text_embeds')).toBeNull();
  });

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
