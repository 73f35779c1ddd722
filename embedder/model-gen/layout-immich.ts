/**
 * The OpenCLIP / Immich layout (current Immich exporter):
 *   config.json (open_clip model config),
 *   textual/model.onnx   text int32 [1, context_length] → embedding [1, D]
 *   textual/ tokenizer files,
 *   visual/model.onnx    image float32 [1, 3, S, S] → embedding [1, D]
 *   visual/preprocess_cfg.json
 * Batch and sequence are fixed; embeddings are already L2-normalised.
 */
import { OPENAI_CLIP_MEAN, OPENAI_CLIP_STD } from '../image/config.ts';
import type { ClipArch } from './arch.ts';
import type { GraphSpec } from './graph-builder.ts';
import type { WeightOverrides } from './params.ts';
import { pythonJson, type Json } from './json-format.ts';
import { modelSpec, RANDOM_WEIGHTS_KEY, RANDOM_WEIGHTS_NOTE, writeModel, writeText, type LayoutContext, type WrittenFile } from './layout-common.ts';
import { DataType } from '../onnx/onnx-proto.ts';
import { openClipParamName } from './param-names.ts';
import { buildTextGraph } from './text-tower.ts';
import { buildVisionGraph } from './vision-tower.ts';

export const IMMICH_TEXT_MODEL = 'textual/model.onnx';
export const IMMICH_VISION_MODEL = 'visual/model.onnx';

/** open_clip's default attention head width; `head_width` is written only when it differs. */
const OPEN_CLIP_HEAD_WIDTH = 64;

export function immichTextGraph(arch: ClipArch, seed: number, weights?: WeightOverrides): GraphSpec {
  return buildTextGraph({
    arch,
    seed,
    weights,
    naming: openClipParamName,
    packedQkv: true,
    graphName: 'textual',
    input: { name: 'text', elemType: DataType.INT32, batch: 1, sequence: arch.text.contextLength },
    embedding: { name: 'embedding', normalize: true },
  });
}

export function immichVisionGraph(arch: ClipArch, seed: number, weights?: WeightOverrides): GraphSpec {
  return buildVisionGraph({
    arch,
    seed,
    weights,
    naming: openClipParamName,
    packedQkv: true,
    graphName: 'visual',
    input: { name: 'image', batch: 1 },
    embedding: { name: 'embedding', normalize: true },
  });
}

export function openClipConfig(arch: ClipArch): Json {
  const { text, vision } = arch;
  const headWidth = vision.width / vision.heads;
  return {
    embed_dim: arch.embedDim,
    vision_cfg: {
      image_size: vision.imageSize,
      layers: vision.layers,
      width: vision.width,
      ...(headWidth === OPEN_CLIP_HEAD_WIDTH ? {} : { head_width: headWidth }),
      patch_size: vision.patchSize,
    },
    text_cfg: {
      context_length: text.contextLength,
      vocab_size: text.vocabSize,
      width: text.width,
      heads: text.heads,
      layers: text.layers,
    },
    [RANDOM_WEIGHTS_KEY]: RANDOM_WEIGHTS_NOTE,
  };
}

export function openClipPreprocessConfig(arch: ClipArch): Json {
  const size = arch.vision.imageSize;
  return {
    size: [size, size],
    mode: 'RGB',
    mean: [...OPENAI_CLIP_MEAN],
    std: [...OPENAI_CLIP_STD],
    interpolation: 'bicubic',
    resize_mode: 'shortest',
    fill_color: 0,
  };
}

export function writeImmichLayout(context: LayoutContext): WrittenFile[] {
  const { arch, seed } = context;
  const files: WrittenFile[] = [writeText(context, 'config.json', pythonJson(openClipConfig(arch)))];
  for (const [name, content] of Object.entries(context.tokenizer)) files.push(writeText(context, `textual/${name}`, content));
  files.push(writeModel(context, IMMICH_TEXT_MODEL, modelSpec(immichTextGraph(arch, seed), context, 'immich', 'text')));
  files.push(writeText(context, 'visual/preprocess_cfg.json', pythonJson(openClipPreprocessConfig(arch))));
  files.push(writeModel(context, IMMICH_VISION_MODEL, modelSpec(immichVisionGraph(arch, seed), context, 'immich', 'vision')));
  return files;
}
