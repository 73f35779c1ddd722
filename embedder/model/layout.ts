// Where a model directory keeps its files, for the two published ONNX CLIP
// layouts: Hugging Face / Xenova and OpenCLIP / Immich.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export type Layout = 'hf' | 'immich';
/** Hugging Face/Xenova file variants (onnx/text_model{suffix}.onnx). */
export type Variant = 'fp32' | 'fp16' | 'quantized' | 'int8' | 'uint8' | 'q4' | 'q4f16' | 'bnb4';
const SUFFIX: Record<Variant, string> = {
  fp32: '',
  fp16: '_fp16',
  quantized: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};
export const VARIANTS = Object.keys(SUFFIX) as Variant[];

export interface ModelFiles {
  layout: Layout;
  dir: string;
  config: string;
  tokenizer: string;
  preprocessConfig: string;
  textModel: string;
  visionModel: string;
  /** One graph (onnx/model.onnx) serving both towers. */
  combined: boolean;
}

export class ModelLayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelLayoutError';
  }
}

function requireFiles(dir: string, paths: string[]): void {
  const missing = paths.filter((p) => !existsSync(join(dir, p)));
  if (missing.length) throw new ModelLayoutError(`model directory ${dir} lacks ${missing.join(', ')}`);
}

export function locateModelFiles(dir: string, variant: Variant = 'fp32'): ModelFiles {
  if (!existsSync(dir)) throw new ModelLayoutError(`model directory ${dir} does not exist`);
  if (existsSync(join(dir, 'textual')) || existsSync(join(dir, 'visual'))) {
    if (variant !== 'fp32') throw new ModelLayoutError(`the OpenCLIP/Immich layout has no ${variant} variant`);
    const files = ['config.json', 'textual/model.onnx', 'textual/tokenizer.json', 'visual/model.onnx', 'visual/preprocess_cfg.json'];
    requireFiles(dir, files);
    const [config, textModel, tokenizer, visionModel, preprocessConfig] = files.map((f) => join(dir, f)) as [string, string, string, string, string];
    return { layout: 'immich', dir, config, tokenizer, preprocessConfig, textModel, visionModel, combined: false };
  }
  const suffix = SUFFIX[variant];
  const split = [`onnx/text_model${suffix}.onnx`, `onnx/vision_model${suffix}.onnx`];
  const combined = `onnx/model${suffix}.onnx`;
  const onnx = split.every((f) => existsSync(join(dir, f))) ? split : existsSync(join(dir, combined)) ? [combined, combined] : null;
  if (!onnx)
    throw new ModelLayoutError(
      `model directory ${dir} has neither the Hugging Face layout (${split.join(' + ')} or ${combined}) ` +
        'nor the OpenCLIP/Immich layout (textual/model.onnx + visual/model.onnx)',
    );
  requireFiles(dir, ['config.json', 'tokenizer.json', 'preprocessor_config.json']);
  return {
    layout: 'hf',
    dir,
    config: join(dir, 'config.json'),
    tokenizer: join(dir, 'tokenizer.json'),
    preprocessConfig: join(dir, 'preprocessor_config.json'),
    textModel: join(dir, onnx[0]!),
    visionModel: join(dir, onnx[1]!),
    combined: onnx[0] === onnx[1],
  };
}
