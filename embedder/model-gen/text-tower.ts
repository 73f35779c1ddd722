/**
 * The CLIP text tower as an ONNX graph:
 * token embedding (Gather) + position embedding (sliced to the sequence
 * length) → causal-masked transformer → final LayerNorm → the hidden state at
 * argmax(input_ids) (the first end-of-text token, CLIP's pooling) → projection.
 */
import type { ClipArch } from './arch.ts';
import { attr, GraphBuilder, type Dim, type GraphSpec } from './graph-builder.ts';
import { projectedEmbedding } from './layers.ts';
import { DataType } from '../onnx/onnx-proto.ts';
import { normal, ParamRegistry, type ParamNamer, type WeightOverrides } from './params.ts';
import { constantTensor } from './tensor-source.ts';
import { layerNormParams, transformer } from './transformer.ts';

export interface TextTowerOptions {
  readonly arch: ClipArch;
  readonly seed: number;
  readonly naming: ParamNamer;
  readonly packedQkv: boolean;
  /** Weights to use instead of random ones (by logical name); absent ones stay random. */
  readonly weights?: WeightOverrides | undefined;
  readonly input: {
    readonly name: string;
    readonly elemType: typeof DataType.INT32 | typeof DataType.INT64;
    readonly batch: Dim;
    readonly sequence: Dim;
  };
  readonly embedding: { readonly name: string; readonly normalize: boolean };
  /** Also output the final-LayerNorm hidden states [batch, sequence, width] under this name. */
  readonly lastHiddenState?: string | undefined;
}

export interface TextGraphOptions extends TextTowerOptions {
  readonly graphName: string;
}

/** Value added to the attention scores above the diagonal (torch.finfo(float32).min, as HF CLIP). */
export const CAUSAL_MASK_VALUE = -3.4028234663852886e38;

/** A graph holding the text tower alone: its input, embedding and (optionally) last hidden state. */
export function buildTextGraph(options: TextGraphOptions): GraphSpec {
  const { arch, input } = options;
  const b = new GraphBuilder(options.graphName);
  addTextTower(b, options);
  b.output(options.embedding.name, DataType.FLOAT, [input.batch, arch.embedDim]);
  if (options.lastHiddenState !== undefined) {
    b.output(options.lastHiddenState, DataType.FLOAT, [input.batch, input.sequence, arch.text.width]);
  }
  return b.build();
}

/**
 * Adds the text tower to `b` (its input, weights and nodes, in the current
 * scope) and returns the embedding's value name; declares no graph outputs.
 */
export function addTextTower(b: GraphBuilder, options: TextTowerOptions): string {
  const { arch, input } = options;
  const { width, vocabSize, contextLength } = arch.text;
  const params = new ParamRegistry(b, options.seed, options.naming, options.weights);

  const ids = b.input(input.name, input.elemType, [input.batch, input.sequence]);
  const shape = b.op1('Shape', [ids]);
  const seqLen = b.op1('Slice', [shape, b.int64([1]), b.int64([2]), b.int64([0])]); // [1]

  const x = b.scope('embeddings', () => {
    const tokenTable = params.add('text.token_embedding', [vocabSize, width], normal(0.02));
    const positionTable = params.add('text.positional_embedding', [contextLength, width], normal(0.01));
    const tokens = b.op1('Gather', [tokenTable, ids], { axis: attr.int(0) });
    const positions = b.op1('Slice', [positionTable, b.int64([0]), seqLen, b.int64([0])]);
    return b.op1('Add', [tokens, positions]);
  });

  const mask = b.scope('causal_mask', () => {
    const full = b.op1('ConstantOfShape', [b.op1('Concat', [seqLen, seqLen], { axis: attr.int(0) })], {
      value: attr.tensor(constantTensor(DataType.FLOAT, [1], [CAUSAL_MASK_VALUE])),
    });
    return b.op1('Trilu', [full, b.int64([1], [])], { upper: attr.int(1) }); // strictly above the diagonal
  });

  const encoded = transformer(b, params, 'text', x, {
    width,
    heads: arch.text.heads,
    layers: arch.text.layers,
    mlpWidth: arch.text.mlpWidth,
    layerNormEps: arch.layerNormEps,
    packedQkv: options.packedQkv,
  }, mask);
  const hidden = layerNormParams(b, params, 'text.ln_final', encoded, width, arch.layerNormEps, options.lastHiddenState);

  const pooled = b.scope('pool', () => {
    const endIndex = b.op1('ArgMax', [ids], { axis: attr.int(-1), keepdims: attr.int(0) }); // [B]
    const batch = b.op1('Gather', [shape, b.int64([0], [])], { axis: attr.int(0) });
    const sequence = b.op1('Gather', [shape, b.int64([1], [])], { axis: attr.int(0) });
    const rowStart = b.op1('Mul', [b.op1('Range', [b.int64([0], []), batch, b.int64([1], [])]), sequence]);
    const flat = b.op1('Reshape', [hidden, b.int64([-1, width])]);
    return b.op1('Gather', [flat, b.op1('Add', [rowStart, endIndex])], { axis: attr.int(0) }); // [B, width]
  });

  const projection = params.add('text.projection', [width, arch.embedDim], normal(width ** -0.5));
  return projectedEmbedding(b, pooled, projection, options.embedding);
}
