/**
 * The CLIP ViT vision tower as an ONNX graph:
 * patch embedding (Conv, stride = patch size, no bias) → class token +
 * position embeddings → pre-LayerNorm → transformer → post-LayerNorm of the
 * class token → projection.
 */
import type { ClipArch } from './arch.ts';
import { attr, GraphBuilder, type Dim, type GraphSpec } from './graph-builder.ts';
import { projectedEmbedding } from './layers.ts';
import { DataType } from '../onnx/onnx-proto.ts';
import { normal, ParamRegistry, type ParamNamer, type WeightOverrides } from './params.ts';
import { layerNormParams, transformer } from './transformer.ts';

export interface VisionTowerOptions {
  readonly arch: ClipArch;
  readonly seed: number;
  readonly naming: ParamNamer;
  readonly packedQkv: boolean;
  /** Weights to use instead of random ones (by logical name); absent ones stay random. */
  readonly weights?: WeightOverrides | undefined;
  readonly input: { readonly name: string; readonly batch: Dim };
  readonly embedding: { readonly name: string; readonly normalize: boolean };
  /** Also output the transformer's hidden states [batch, 1 + patches, width] (before post-LayerNorm, as HF). */
  readonly lastHiddenState?: string | undefined;
}

export interface VisionGraphOptions extends VisionTowerOptions {
  readonly graphName: string;
}

/** Number of tokens the vision transformer sees: the patches and the class token. */
function visionTokens(arch: ClipArch): number {
  const { imageSize, patchSize } = arch.vision;
  if (imageSize % patchSize !== 0) throw new Error(`image size ${imageSize} is not a multiple of patch ${patchSize}`);
  return (imageSize / patchSize) ** 2 + 1;
}

/** A graph holding the vision tower alone: its input, embedding and (optionally) last hidden state. */
export function buildVisionGraph(options: VisionGraphOptions): GraphSpec {
  const { arch, input } = options;
  const b = new GraphBuilder(options.graphName);
  addVisionTower(b, options);
  b.output(options.embedding.name, DataType.FLOAT, [input.batch, arch.embedDim]);
  if (options.lastHiddenState !== undefined) {
    b.output(options.lastHiddenState, DataType.FLOAT, [input.batch, visionTokens(arch), arch.vision.width]);
  }
  return b.build();
}

/**
 * Adds the vision tower to `b` (its input, weights and nodes, in the current
 * scope) and returns the embedding's value name; declares no graph outputs.
 */
export function addVisionTower(b: GraphBuilder, options: VisionTowerOptions): string {
  const { arch, input } = options;
  const { width, imageSize, patchSize } = arch.vision;
  const tokens = visionTokens(arch);
  const scale = width ** -0.5;
  const params = new ParamRegistry(b, options.seed, options.naming, options.weights);

  const pixels = b.input(input.name, DataType.FLOAT, [input.batch, 3, imageSize, imageSize]);

  const embedded = b.scope('embeddings', () => {
    const kernel = params.add('vision.patch_embedding', [width, 3, patchSize, patchSize], normal((3 * patchSize * patchSize) ** -0.5));
    const classEmbedding = params.add('vision.class_embedding', [width], normal(scale));
    const positions = params.add('vision.positional_embedding', [tokens, width], normal(scale));
    const grid = b.op1('Conv', [pixels, kernel], {
      kernel_shape: attr.ints([patchSize, patchSize]),
      strides: attr.ints([patchSize, patchSize]),
    }); // [B, width, g, g]
    const patches = b.op1('Transpose', [b.op1('Reshape', [grid, b.int64([0, width, -1])])], { perm: attr.ints([0, 2, 1]) });
    const batch = b.op1('Slice', [b.op1('Shape', [pixels]), b.int64([0]), b.int64([1]), b.int64([0])]);
    const classShape = b.op1('Concat', [batch, b.int64([1, width])], { axis: attr.int(0) });
    const classTokens = b.op1('Expand', [b.op1('Reshape', [classEmbedding, b.int64([1, 1, width])]), classShape]);
    const sequence = b.op1('Concat', [classTokens, patches], { axis: attr.int(1) }); // [B, tokens, width]
    return b.op1('Add', [sequence, positions]);
  });

  const eps = arch.layerNormEps;
  const normed = layerNormParams(b, params, 'vision.ln_pre', embedded, width, eps);
  let hidden = transformer(b, params, 'vision', normed, {
    width,
    heads: arch.vision.heads,
    layers: arch.vision.layers,
    mlpWidth: arch.vision.mlpWidth,
    layerNormEps: eps,
    packedQkv: options.packedQkv,
  });
  if (options.lastHiddenState !== undefined) hidden = b.op1('Identity', [hidden], {}, options.lastHiddenState);

  const classToken = b.op1('Gather', [hidden, b.int64([0], [])], { axis: attr.int(1) }); // [B, width]
  const pooled = layerNormParams(b, params, 'vision.ln_post', classToken, width, eps);
  const projection = params.add('vision.projection', [width, arch.embedDim], normal(scale));
  return projectedEmbedding(b, pooled, projection, options.embedding);
}
