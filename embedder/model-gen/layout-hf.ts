/**
 * The Hugging Face / Xenova (transformers.js) layout:
 *   config.json, preprocessor_config.json, tokenizer files,
 *   onnx/text_model.onnx   input_ids int64 [batch_size, sequence_length]
 *                          → text_embeds [batch_size, D], last_hidden_state [batch_size, sequence_length, width]
 *   onnx/vision_model.onnx pixel_values float32 [batch_size, 3, S, S]
 *                          → image_embeds [batch_size, D], last_hidden_state [batch_size, tokens, width]
 * Embeddings are projected but not L2-normalised (CLIP*ModelWithProjection).
 *
 * The combined variant (layout `hf-combined`, as Xenova's onnx/model.onnx) has
 * the same files but one CLIPModel graph instead of the two tower files:
 *   onnx/model.onnx        input_ids int64 [text_batch_size, sequence_length],
 *                          pixel_values float32 [image_batch_size, 3, S, S],
 *                          attention_mask int64 [text_batch_size, sequence_length]
 *                          → logits_per_image [image_batch_size, text_batch_size],
 *                            logits_per_text [text_batch_size, image_batch_size],
 *                            text_embeds [text_batch_size, D], image_embeds [image_batch_size, D]
 * Here the embeddings are L2-normalised (CLIPModel normalises before the logits).
 */
import { OPENAI_CLIP_MEAN, OPENAI_CLIP_STD } from '../image/config.ts';
import type { ClipArch } from './arch.ts';
import { attr, GraphBuilder, type GraphSpec } from './graph-builder.ts';
import type { WeightOverrides } from './params.ts';
import { indentedJson, type Json } from './json-format.ts';
import { modelSpec, RANDOM_WEIGHTS_KEY, RANDOM_WEIGHTS_NOTE, writeModel, writeText, type LayoutContext, type WrittenFile } from './layout-common.ts';
import { DataType } from '../onnx/onnx-proto.ts';
import { hfParamName } from './param-names.ts';
import { constantTensor } from './tensor-source.ts';
import { addTextTower, buildTextGraph } from './text-tower.ts';
import { addVisionTower, buildVisionGraph } from './vision-tower.ts';

export const HF_TEXT_MODEL = 'onnx/text_model.onnx';
export const HF_VISION_MODEL = 'onnx/vision_model.onnx';
export const HF_COMBINED_MODEL = 'onnx/model.onnx';

/**
 * The combined graph's learned logit scale, ln(100): OpenAI's CLIP models end
 * training at the clamp exp(scale) = 100 (config.json's logit_scale_init_value,
 * 2.6592 = ln(1/0.07), is only where training starts).
 */
export const HF_LOGIT_SCALE = Math.log(100);

export function hfTextGraph(arch: ClipArch, seed: number, weights?: WeightOverrides): GraphSpec {
  return buildTextGraph({
    arch,
    seed,
    weights,
    naming: hfParamName,
    packedQkv: false,
    graphName: 'text_model',
    input: { name: 'input_ids', elemType: DataType.INT64, batch: 'batch_size', sequence: 'sequence_length' },
    embedding: { name: 'text_embeds', normalize: false },
    lastHiddenState: 'last_hidden_state',
  });
}

export function hfVisionGraph(arch: ClipArch, seed: number, weights?: WeightOverrides): GraphSpec {
  return buildVisionGraph({
    arch,
    seed,
    weights,
    naming: hfParamName,
    packedQkv: false,
    graphName: 'vision_model',
    input: { name: 'pixel_values', batch: 'batch_size' },
    embedding: { name: 'image_embeds', normalize: false },
    lastHiddenState: 'last_hidden_state',
  });
}

/**
 * CLIPModel as one graph: both towers (the weights of the split files, under
 * the same initializer names), normalised embeddings, and
 * logits_per_text = exp(logit_scale) · text_embeds · image_embedsᵀ, logits_per_image its transpose.
 * The text and image batch axes are independent. attention_mask is a required
 * input that no node reads: the causal mask and end-token pooling already make
 * everything after the end token irrelevant (as in HF's CLIP text model).
 */
export function hfCombinedGraph(arch: ClipArch, seed: number, weights?: WeightOverrides): GraphSpec {
  const b = new GraphBuilder('clip_model');
  const common = { arch, seed, weights, naming: hfParamName, packedQkv: false };
  const textEmbeds = b.scope('text_model', () =>
    addTextTower(b, {
      ...common,
      input: { name: 'input_ids', elemType: DataType.INT64, batch: 'text_batch_size', sequence: 'sequence_length' },
      embedding: { name: 'text_embeds', normalize: true },
    }),
  );
  const imageEmbeds = b.scope('vision_model', () =>
    addVisionTower(b, {
      ...common,
      input: { name: 'pixel_values', batch: 'image_batch_size' },
      embedding: { name: 'image_embeds', normalize: true },
    }),
  );
  b.input('attention_mask', DataType.INT64, ['text_batch_size', 'sequence_length']);

  const logitScale = b.initializer('logit_scale', constantTensor(DataType.FLOAT, [], [HF_LOGIT_SCALE]));
  const transposed = { perm: attr.ints([1, 0]) };
  const cosine = b.op1('MatMul', [textEmbeds, b.op1('Transpose', [imageEmbeds], transposed)]); // [T, I]
  const logitsPerText = b.op1('Mul', [cosine, b.op1('Exp', [logitScale])], {}, 'logits_per_text');
  b.op1('Transpose', [logitsPerText], transposed, 'logits_per_image');

  b.output('logits_per_image', DataType.FLOAT, ['image_batch_size', 'text_batch_size']);
  b.output('logits_per_text', DataType.FLOAT, ['text_batch_size', 'image_batch_size']);
  b.output('text_embeds', DataType.FLOAT, ['text_batch_size', arch.embedDim]);
  b.output('image_embeds', DataType.FLOAT, ['image_batch_size', arch.embedDim]);
  return b.build();
}

export function hfConfig(arch: ClipArch): Json {
  const { text, vision } = arch;
  return {
    architectures: ['CLIPModel'],
    model_type: 'clip',
    projection_dim: arch.embedDim,
    logit_scale_init_value: 2.6592,
    text_config: {
      model_type: 'clip_text_model',
      hidden_size: text.width,
      intermediate_size: text.mlpWidth,
      num_hidden_layers: text.layers,
      num_attention_heads: text.heads,
      max_position_embeddings: text.contextLength,
      vocab_size: text.vocabSize,
      hidden_act: 'quick_gelu',
      layer_norm_eps: arch.layerNormEps,
      bos_token_id: text.vocabSize - 2,
      eos_token_id: text.vocabSize - 1,
      pad_token_id: 1,
      projection_dim: arch.embedDim,
    },
    vision_config: {
      model_type: 'clip_vision_model',
      hidden_size: vision.width,
      intermediate_size: vision.mlpWidth,
      num_hidden_layers: vision.layers,
      num_attention_heads: vision.heads,
      num_channels: 3,
      image_size: vision.imageSize,
      patch_size: vision.patchSize,
      hidden_act: 'quick_gelu',
      layer_norm_eps: arch.layerNormEps,
      projection_dim: arch.embedDim,
    },
    [RANDOM_WEIGHTS_KEY]: RANDOM_WEIGHTS_NOTE,
  };
}

export function hfPreprocessorConfig(arch: ClipArch): Json {
  const size = arch.vision.imageSize;
  return {
    crop_size: { height: size, width: size },
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    feature_extractor_type: 'CLIPFeatureExtractor',
    image_processor_type: 'CLIPImageProcessor',
    image_mean: [...OPENAI_CLIP_MEAN],
    image_std: [...OPENAI_CLIP_STD],
    resample: 3,
    rescale_factor: 0.00392156862745098,
    size: { shortest_edge: size },
  };
}

/** config.json, preprocessor_config.json and the tokenizer files (the same for both hf variants). */
function writeHfTextFiles(context: LayoutContext): WrittenFile[] {
  const { arch } = context;
  const files: WrittenFile[] = [
    writeText(context, 'config.json', indentedJson(hfConfig(arch), 1)),
    writeText(context, 'preprocessor_config.json', indentedJson(hfPreprocessorConfig(arch), 1)),
  ];
  for (const [name, content] of Object.entries(context.tokenizer)) files.push(writeText(context, name, content));
  return files;
}

export function writeHfLayout(context: LayoutContext): WrittenFile[] {
  const { arch, seed } = context;
  const files = writeHfTextFiles(context);
  files.push(writeModel(context, HF_TEXT_MODEL, modelSpec(hfTextGraph(arch, seed), context, 'hf', 'text')));
  files.push(writeModel(context, HF_VISION_MODEL, modelSpec(hfVisionGraph(arch, seed), context, 'hf', 'vision')));
  return files;
}

/** The hf layout with onnx/model.onnx (CLIPModel) in place of the two tower files. */
export function writeHfCombinedLayout(context: LayoutContext): WrittenFile[] {
  const { arch, seed } = context;
  const files = writeHfTextFiles(context);
  files.push(writeModel(context, HF_COMBINED_MODEL, modelSpec(hfCombinedGraph(arch, seed), context, 'hf-combined', 'clip')));
  return files;
}
