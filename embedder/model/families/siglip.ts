// SigLIP and the fixed-resolution SigLIP 2 (Hugging Face SiglipModel; Xenova's and onnx-community's
// split exports of SiglipTextModel / SiglipVisionModel, whose `pooler_output` is the embedding):
// - text: SentencePiece (SigLIP) or Gemma (SigLIP 2) tokenizer.json, padded to the full context (64)
//   with the pad token, since the tower attends to every position without a mask and pools the last
//   one (`last_hidden_state[:, -1, :]`, then a linear head);
// - image: resized straight to the square input, no crop, mean = std = 0.5 (preprocessor_config.json);
//   the vision tower pools with an attention-pooling head (a learned probe attends over the patches),
//   which has no row to gather early;
// - scoring: a sigmoid per (text, image) pair at the learned scale and bias.
import { ModelLayoutError } from '../layout.ts';
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

/**
 * exp(logit_scale) and logit_bias, as SiglipModel holds them (its parameters `logit_scale`, a log, and
 * `logit_bias`). The split exports leave both out of their graphs, so config.json must state them.
 */
function sigmoidScoring(config: ModelConfig, dir: string) {
  const { logit_scale: scale, logit_bias: bias } = config;
  if (typeof scale !== 'number' || typeof bias !== 'number' || !Number.isFinite(scale) || !Number.isFinite(bias))
    throw new ModelLayoutError(
      `${dir}/config.json must state the model's learned logit_scale (the log of the sigmoid's scale, as SiglipModel ` +
        `holds it) and logit_bias as numbers (found ${JSON.stringify(scale)} and ${JSON.stringify(bias)}): split ONNX ` +
        'exports do not carry them, and SigLIP scores are sigmoid(exp(logit_scale) · cos + logit_bias)',
    );
  return { kind: 'sigmoid', scale: Math.exp(scale), bias } as const;
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
    scoring: (config, files) => sigmoidScoring(config, files.dir),
  };
}

export const siglipFamily = siglipModule('siglip');
export const siglip2Family = siglipModule('siglip2');
