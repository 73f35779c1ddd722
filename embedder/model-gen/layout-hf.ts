/**
 * The Hugging Face / Xenova (transformers.js) layout:
 *   config.json, preprocessor_config.json, tokenizer files,
 *   onnx/text_model.onnx   input_ids int64 [batch_size, sequence_length]
 *                          → text_embeds [batch_size, D], last_hidden_state [batch_size, sequence_length, width]
 *   onnx/vision_model.onnx pixel_values float32 [batch_size, 3, S, S]
 *                          → image_embeds [batch_size, D], last_hidden_state [batch_size, tokens, width]
 * Embeddings are projected but not L2-normalised (CLIP*ModelWithProjection).
 */
import { CLIP_IMAGE_MEAN, CLIP_IMAGE_STD, type ClipArch } from './arch.ts';
import type { GraphSpec } from './graph-builder.ts';
import type { WeightOverrides } from './params.ts';
import { indentedJson, type Json } from './json-format.ts';
import { modelSpec, writeModel, writeText, type LayoutContext, type WrittenFile } from './layout-common.ts';
import { DataType } from './onnx-proto.ts';
import { hfParamName } from './param-names.ts';
import { buildTextGraph } from './text-tower.ts';
import { buildVisionGraph } from './vision-tower.ts';

export const HF_TEXT_MODEL = 'onnx/text_model.onnx';
export const HF_VISION_MODEL = 'onnx/vision_model.onnx';

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
    image_mean: [...CLIP_IMAGE_MEAN],
    image_std: [...CLIP_IMAGE_STD],
    resample: 3,
    rescale_factor: 0.00392156862745098,
    size: { shortest_edge: size },
  };
}

export function writeHfLayout(context: LayoutContext): WrittenFile[] {
  const { arch, seed } = context;
  const files: WrittenFile[] = [
    writeText(context, 'config.json', indentedJson(hfConfig(arch), 1)),
    writeText(context, 'preprocessor_config.json', indentedJson(hfPreprocessorConfig(arch), 1)),
  ];
  for (const [name, content] of Object.entries(context.tokenizer)) files.push(writeText(context, name, content));
  files.push(writeModel(context, HF_TEXT_MODEL, modelSpec(hfTextGraph(arch, seed), context, 'hf', 'text')));
  files.push(writeModel(context, HF_VISION_MODEL, modelSpec(hfVisionGraph(arch, seed), context, 'hf', 'vision')));
  return files;
}
