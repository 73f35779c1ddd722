/**
 * The pre-LayerNorm residual attention block shared by both CLIP towers:
 *   x = x + out_proj(MHA(ln_1(x)));  x = x + c_proj(quick_gelu(c_fc(ln_2(x))))
 * with CLIP's initialisation scales.
 */
import { attr, type GraphBuilder } from './graph-builder.ts';
import { layerNorm, linear, quickGelu } from './layers.ts';
import { normal, ones, zeros, type ParamPart, type ParamRegistry } from './params.ts';

export interface TransformerConfig {
  readonly width: number;
  readonly heads: number;
  readonly layers: number;
  readonly mlpWidth: number;
  readonly layerNormEps: number;
  /** One [width, 3·width] QKV projection (OpenCLIP's in_proj) instead of three (HF's q/k/v_proj). */
  readonly packedQkv: boolean;
}

/** Standard deviation of the random biases (CLIP starts from zeros; small noise keeps them visible in tests). */
export const BIAS_STD = 0.01;

/** Adds a LayerNorm's weight (ones) and bias (zeros) and applies it. */
export function layerNormParams(
  b: GraphBuilder,
  params: ParamRegistry,
  logical: string,
  x: string,
  width: number,
  eps: number,
  outputName?: string,
): string {
  const weight = params.add(`${logical}.weight`, [width], ones);
  const bias = params.add(`${logical}.bias`, [width], zeros);
  return b.scope(logical.slice(logical.lastIndexOf('.') + 1), () => layerNorm(b, x, weight, bias, eps, outputName));
}

/** What every block of one transformer is built with; `mask` is added to the attention scores. */
interface BlockContext {
  readonly b: GraphBuilder;
  readonly params: ParamRegistry;
  readonly config: TransformerConfig;
  readonly mask: string | undefined;
}

/** Runs `config.layers` blocks named `<prefix>.blocks.<i>`; `mask` is added to the attention scores. */
export function transformer(
  b: GraphBuilder,
  params: ParamRegistry,
  prefix: string,
  x: string,
  config: TransformerConfig,
  mask?: string,
): string {
  const block: BlockContext = { b, params, config, mask };
  let hidden = x;
  for (let i = 0; i < config.layers; i++) {
    const logical = `${prefix}.blocks.${i}`;
    hidden = b.scope(`blocks.${i}`, () => residualBlock(block, logical, hidden));
  }
  return hidden;
}

function residualBlock(block: BlockContext, logical: string, x: string): string {
  const { b, params, config } = block;
  const { width, layerNormEps: eps } = config;
  const attended = b.scope('attn', () => attention(block, `${logical}.attn`, layerNormParams(b, params, `${logical}.ln_1`, x, width, eps)));
  const afterAttention = b.op1('Add', [x, attended]);
  const h = layerNormParams(b, params, `${logical}.ln_2`, afterAttention, width, eps);
  const mlp = b.scope('mlp', () => {
    const fcStd = (2 * width) ** -0.5;
    const projStd = width ** -0.5 * (2 * config.layers) ** -0.5;
    const fcWeight = params.add(`${logical}.mlp.fc.weight`, [width, config.mlpWidth], normal(fcStd));
    const fcBias = params.add(`${logical}.mlp.fc.bias`, [config.mlpWidth], normal(BIAS_STD));
    const projWeight = params.add(`${logical}.mlp.proj.weight`, [config.mlpWidth, width], normal(projStd));
    const projBias = params.add(`${logical}.mlp.proj.bias`, [width], normal(BIAS_STD));
    return linear(b, quickGelu(b, linear(b, h, fcWeight, fcBias)), projWeight, projBias);
  });
  return b.op1('Add', [afterAttention, mlp]);
}

/** Multi-head self-attention on [batch, tokens, width]. */
function attention({ b, params, config, mask }: BlockContext, logical: string, x: string): string {
  const { width, heads } = config;
  if (width % heads !== 0) throw new Error(`width ${width} is not divisible by ${heads} heads`);
  const headDim = width / heads;
  const inStd = width ** -0.5;
  const outStd = width ** -0.5 * (2 * config.layers) ** -0.5;
  const weightPart = (name: string): ParamPart => ({ logical: `${logical}.${name}.weight`, dims: [width, width], init: normal(inStd) });
  const biasPart = (name: string): ParamPart => ({ logical: `${logical}.${name}.bias`, dims: [width], init: normal(BIAS_STD) });

  let q: string;
  let k: string;
  let v: string;
  if (config.packedQkv) {
    const weight = params.packedColumns(`${logical}.in_proj.weight`, ['q', 'k', 'v'].map(weightPart));
    const bias = params.packedVector(`${logical}.in_proj.bias`, ['q', 'k', 'v'].map(biasPart));
    const qkv = linear(b, x, weight, bias);
    [q, k, v] = b.op('Split', [qkv], { axis: attr.int(-1) }, { count: 3 }) as [string, string, string];
  } else {
    const project = (name: string): string => {
      const w = weightPart(name);
      const bias = biasPart(name);
      return b.scope(`${name}_proj`, () =>
        linear(b, x, params.add(w.logical, w.dims, w.init), params.add(bias.logical, bias.dims, bias.init)),
      );
    };
    [q, k, v] = [project('q'), project('k'), project('v')];
  }

  const splitHeads = b.int64([0, 0, heads, headDim]);
  const toHeads = (t: string, perm: number[]): string =>
    b.op1('Transpose', [b.op1('Reshape', [t, splitHeads])], { perm: attr.ints(perm) });
  const qh = toHeads(b.op1('Mul', [q, b.float(headDim ** -0.5)]), [0, 2, 1, 3]); // [B, H, T, Dh]
  const kt = toHeads(k, [0, 2, 3, 1]); // [B, H, Dh, T]
  const vh = toHeads(v, [0, 2, 1, 3]); // [B, H, T, Dh]
  let scores = b.op1('MatMul', [qh, kt]); // [B, H, T, T]
  if (mask !== undefined) scores = b.op1('Add', [scores, mask]);
  const probs = b.op1('Softmax', [scores], { axis: attr.int(-1) });
  const context = b.op1('Transpose', [b.op1('MatMul', [probs, vh])], { perm: attr.ints([0, 2, 1, 3]) });
  const merged = b.op1('Reshape', [context, b.int64([0, 0, width])]);
  const outWeight = params.add(`${logical}.out.weight`, [width, width], normal(outStd));
  const outBias = params.add(`${logical}.out.bias`, [width], normal(BIAS_STD));
  return b.scope('out_proj', () => linear(b, merged, outWeight, outBias));
}
