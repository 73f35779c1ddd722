// Which files of a hub repository make a loadable CLIP, per published layout.
import type { HubFile } from './hub.ts';

export type Variant = 'fp32' | 'fp16' | 'quantized';
const SUFFIX: Record<Variant, string> = { fp32: '', fp16: '_fp16', quantized: '_quantized' };

const HF_CONFIG = ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];
const IMMICH_FILES = [
  'config.json',
  'textual/model.onnx',
  'textual/tokenizer.json',
  'textual/tokenizer_config.json',
  'textual/special_tokens_map.json',
  'visual/model.onnx',
  'visual/preprocess_cfg.json',
];

// Beside textual/model.onnx and visual/model.onnx, a tower over 2 GB keeps its weights in files of its own
// folder (PyTorch's exporter names them after the tensors: textual/onnx__MatMul_2531,
// textual/transformer.embeddings.word_embeddings.weight, ... in Immich's M-CLIP exports); every file
// directly in textual/ or visual/ is fetched, except other runtimes' models.
const IMMICH_TOWER_FILE = /^(textual|visual)\/[^/]+$/;
const OTHER_RUNTIMES = /\.(armnn|rknn|tflite)$/;

/** An ONNX file plus its external-data companions ({file}_data, {file}_data_1, …). */
function withExternalData(files: HubFile[], onnxPath: string): HubFile[] {
  return files.filter((f) => f.path === onnxPath || f.path.startsWith(`${onnxPath}_data`));
}

export function selectFiles(files: HubFile[], variant: Variant): { layout: 'hf' | 'immich'; files: HubFile[] } {
  const has = (path: string) => files.some((f) => f.path === path);
  if (has('textual/model.onnx') && has('visual/model.onnx')) {
    if (variant !== 'fp32') throw new Error(`the OpenCLIP/Immich layout ships one variant; --variant ${variant} is not available`);
    const wanted = (path: string) => IMMICH_FILES.includes(path) || (IMMICH_TOWER_FILE.test(path) && !OTHER_RUNTIMES.test(path));
    return { layout: 'immich', files: files.filter((f) => wanted(f.path)) };
  }
  const suffix = SUFFIX[variant];
  const split = [`onnx/text_model${suffix}.onnx`, `onnx/vision_model${suffix}.onnx`];
  const combined = `onnx/model${suffix}.onnx`;
  const onnx = split.every(has) ? split : has(combined) ? [combined] : null;
  if (!onnx) {
    const available = files.filter((f) => f.path.endsWith('.onnx')).map((f) => f.path);
    throw new Error(`no ${variant} CLIP ONNX files in this repository (found: ${available.join(', ') || 'none'})`);
  }
  const missing = ['config.json', 'preprocessor_config.json', 'tokenizer.json'].filter((p) => !has(p));
  if (missing.length) throw new Error(`repository lacks ${missing.join(', ')}`);
  return {
    layout: 'hf',
    files: [...files.filter((f) => HF_CONFIG.includes(f.path)), ...onnx.flatMap((p) => withExternalData(files, p))],
  };
}
