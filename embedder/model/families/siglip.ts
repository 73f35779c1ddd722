// SigLIP and the fixed-resolution SigLIP 2 (Hugging Face SiglipModel; Xenova's and onnx-community's
// split exports of SiglipTextModel / SiglipVisionModel, whose `pooler_output` is the embedding):
// - text: SentencePiece (SigLIP) or Gemma (SigLIP 2) tokenizer.json, padded to the full context (64)
//   with the pad token, since the tower attends to every position without a mask and pools the last
//   one (`last_hidden_state[:, -1, :]`, then a linear head);
// - image: resized straight to the square input, no crop, mean = std = 0.5 (preprocessor_config.json);
//   the vision tower pools with an attention-pooling head (a learned probe attends over the patches),
//   which has no row to gather early;
// - scoring: a sigmoid per (text, image) pair at the learned scale and bias (config.json, or a combined
//   onnx/model.onnx); unavailable, with the reason, where the model's files hold neither.
// The OpenCLIP/Immich export of an open_clip SigLIP (ViT-B-16-SigLIP__webli and the like) is the same
// model: textual/model.onnx (`text` int32 [1, context]) and visual/model.onnx (`image`) each end at the
// normalised `embedding`; the context length and the text cleaning (`canonicalize`) come from open_clip's
// config.json, the pad token from textual/tokenizer_config.json, the squash resize from
// visual/preprocess_cfg.json; its config.json holds no learned scale or bias (only `init_logit_bias`).
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readSigmoidParameters } from '../combined-scoring.ts';
import { ModelLayoutError, type ModelFiles } from '../layout.ts';
import type { Scoring } from '../scoring.ts';
import { loadTextTokenizer } from '../../text/load-text-tokenizer.ts';
import type { FamilyModule, ModelConfig } from './family-module.ts';
import type { FamilyId } from '../family.ts';

/** SiglipTextConfig's max_position_embeddings when config.json does not state it. */
const SIGLIP_CONTEXT_LENGTH = 64;

const isObject = (value: unknown): value is ModelConfig => typeof value === 'object' && value !== null && !Array.isArray(value);

function contextLength(config: ModelConfig): number {
  const hf = isObject(config['text_config']) ? config['text_config']['max_position_embeddings'] : undefined;
  const openClip = isObject(config['text_cfg']) ? config['text_cfg']['context_length'] : undefined;
  const stated = hf ?? openClip ?? SIGLIP_CONTEXT_LENGTH;
  if (typeof stated !== 'number' || !Number.isInteger(stated) || stated < 2)
    throw new ModelLayoutError(`config.json states an invalid text context length: ${JSON.stringify(stated)}`);
  return stated;
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * The combined graphs that may hold SiglipModel's parameters: the one served, or beside split towers the
 * combined graph of the same variant (onnx/model_quantized.onnx beside text_model_quantized.onnx), then
 * the fp32 one.
 */
function combinedGraphs(files: ModelFiles): string[] {
  if (files.combined) return [files.textModel];
  if (files.layout !== 'hf') return [];
  const suffix = /text_model(.*)\.onnx$/.exec(basename(files.textModel))?.[1] ?? '';
  return [...new Set([`model${suffix}.onnx`, 'model.onnx'])].map((name) => join(dirname(files.textModel), name)).filter((path) => existsSync(path));
}

/** What a SigLIP without its learned scale and bias lacks, and where the two values come from. */
function missingParametersReason(layout: ModelFiles['layout'], problems: readonly string[]): string {
  const lacks =
    layout === 'immich'
      ? "which Immich's export does not carry: its towers end at the normalised embeddings, and its config.json is open_clip's " +
        "model config, whose init_logit_bias is the value training started from, not the learned one"
      : `which its split ONNX towers do not carry and its config.json does not state${problems.length ? ` (${problems.join('; ')})` : ''}`;
  const parameter = layout === 'immich' ? "the model's logit_scale parameter" : "SiglipModel's logit_scale parameter";
  const combined = layout === 'immich' ? '' : ", or put the repository's combined onnx/model.onnx in the model directory, from which they are read";
  return (
    `SigLIP's sigmoid scoring (/v1/classify, /v1/similarity's probabilities) needs the model's learned logit_scale and logit_bias, ${lacks}. ` +
    'Embeddings and search are served without them. To score, add both at the top level of config.json, ' +
    `"logit_scale": <${parameter}, the log of the scale> and "logit_bias": <its logit_bias parameter>, ` +
    `read from the original PyTorch checkpoint (model.logit_scale.item(), model.logit_bias.item())${combined}`
  );
}

/**
 * exp(logit_scale) and logit_bias, as SiglipModel holds them (its parameters `logit_scale`, a log, and
 * `logit_bias`): from config.json, else from a combined graph (combined-scoring.ts); the split exports
 * leave both out of their graphs. Without them, scoring is unavailable and says why.
 */
function sigmoidScoring(config: ModelConfig, files: ModelFiles): Scoring {
  const { logit_scale: scale, logit_bias: bias } = config;
  if (scale !== undefined || bias !== undefined) {
    if (!isFiniteNumber(scale) || !isFiniteNumber(bias))
      throw new ModelLayoutError(
        `${files.config} must state both of the model's learned logit_scale (the log of the sigmoid's scale, as SiglipModel ` +
          `holds it) and logit_bias as numbers, or neither (found ${JSON.stringify(scale)} and ${JSON.stringify(bias)}): ` +
          'SigLIP scores are sigmoid(exp(logit_scale) · cos + logit_bias)',
      );
    return { kind: 'sigmoid', scale: Math.exp(scale), bias };
  }
  const problems: string[] = [];
  for (const graph of combinedGraphs(files)) {
    const read = readSigmoidParameters(graph);
    if (!('problem' in read)) return { kind: 'sigmoid', ...read };
    problems.push(read.problem.replace(`${files.dir}/`, ''));
  }
  return { kind: 'unavailable', reason: missingParametersReason(files.layout, problems) };
}

function siglipModule(id: FamilyId & ('siglip' | 'siglip2')): FamilyModule {
  return {
    id,
    tokenizer: (files, config) => loadTextTokenizer(files.tokenizer, { modelConfig: config, contextLength: contextLength(config) }),
    padTo: () => 'context',
    outputs: { text: ['pooler_output', 'text_embeds', 'embedding'], vision: ['pooler_output', 'image_embeds', 'embedding'] },
    pooledRows: {
      text: { gather: ['row'] },
      vision: { keep: 'the attention-pooling head mixes every patch into its output' },
    },
    scoring: sigmoidScoring,
  };
}

export const siglipFamily = siglipModule('siglip');
export const siglip2Family = siglipModule('siglip2');
