// Which model family a directory holds, read from its own files: `config.json`'s `model_type` in the
// Hugging Face layout (with the tokenizer telling SigLIP 2 from SigLIP), the open_clip model config in
// the OpenCLIP/Immich layout. A family this embedder cannot serve is refused here, at start, naming
// what was found.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ModelLayoutError, type ModelFiles } from './layout.ts';

export type FamilyId = 'clip' | 'siglip' | 'siglip2' | 'multilingual-clip';
export const SUPPORTED_FAMILIES: readonly FamilyId[] = ['clip', 'siglip', 'siglip2', 'multilingual-clip'];

type Json = Record<string, unknown>;

export class UnsupportedFamilyError extends ModelLayoutError {
  constructor(dir: string, found: string) {
    super(
      `model directory ${dir} holds ${found}, which this embedder does not serve; ` +
        `supported families: clip (OpenAI CLIP, OpenCLIP), siglip (SigLIP), siglip2 (SigLIP 2 at a fixed resolution), ` +
        `multilingual-clip (an XLM-RoBERTa text tower with a CLIP vision tower: Immich's M-CLIP, open_clip's xlm-roberta models)`,
    );
    this.name = 'UnsupportedFamilyError';
  }
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

function readJsonIfPresent(path: string): Json {
  if (!existsSync(path)) return {};
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ModelLayoutError(`${path}: ${(error as Error).message}`);
  }
  return isObject(json) ? json : {};
}

/**
 * The fixed-resolution SigLIP 2 checkpoints are SigLIP's architecture (`model_type` "siglip") with Gemma's
 * tokenizer: told apart by `tokenizer_config.json`'s class, or else by Gemma's 256,000-token vocabulary.
 */
function siglipGeneration(files: ModelFiles, config: Json): 'siglip' | 'siglip2' {
  const tokenizerClass = text(readJsonIfPresent(join(files.dir, 'tokenizer_config.json'))['tokenizer_class']);
  if (tokenizerClass) return /^Gemma/.test(tokenizerClass) ? 'siglip2' : 'siglip';
  const vocab = isObject(config['text_config']) ? config['text_config']['vocab_size'] : undefined;
  return vocab === 256000 ? 'siglip2' : 'siglip';
}

function hfFamily(files: ModelFiles, config: Json): FamilyId {
  const modelType = config['model_type'];
  // Configs written before model families existed state no model_type: they are CLIPs, as before.
  if (modelType === undefined || modelType === 'clip') return 'clip';
  if (modelType === 'siglip') return siglipGeneration(files, config);
  if (modelType === 'siglip2')
    throw new UnsupportedFamilyError(files.dir, 'model_type "siglip2" (SigLIP 2 NaFlex: variable resolution and aspect ratio, patches with a pixel mask)');
  throw new UnsupportedFamilyError(files.dir, `model_type ${JSON.stringify(modelType)}`);
}

/** open_clip's model config: SigLIP towers name their timm vision model or their tokenizer after it. */
function immichFamily(files: ModelFiles, config: Json): FamilyId {
  const vision = isObject(config['vision_cfg']) ? config['vision_cfg'] : {};
  const textCfg = isObject(config['text_cfg']) ? config['text_cfg'] : {};
  const names = [text(vision['timm_model_name']), text(textCfg['hf_tokenizer_name'])].join(' ');
  if (/siglip2/i.test(names)) return 'siglip2';
  if (/siglip/i.test(names) || 'init_logit_bias' in config) return 'siglip';
  if (hasXlmRobertaText(files, textCfg)) return 'multilingual-clip';
  const hfModel = text(textCfg['hf_model_name']);
  if (hfModel) throw new UnsupportedFamilyError(files.dir, `an open_clip model whose text tower is the Hugging Face model ${hfModel}`);
  return 'clip';
}

/**
 * An XLM-RoBERTa text tower: open_clip's xlm-roberta-* configs name it; Immich's M-CLIP exports keep the
 * vision model's open_clip config, and only textual/tokenizer_config.json tells.
 */
function hasXlmRobertaText(files: ModelFiles, textCfg: Json): boolean {
  if (/xlm-roberta/i.test([text(textCfg['hf_model_name']), text(textCfg['hf_tokenizer_name'])].join(' '))) return true;
  const tokenizerConfig = readJsonIfPresent(join(dirname(files.tokenizer), 'tokenizer_config.json'));
  return /^XLMRoberta/.test(text(tokenizerConfig['tokenizer_class']));
}

export function detectFamily(files: ModelFiles, config: Json): FamilyId {
  return files.layout === 'immich' ? immichFamily(files, config) : hfFamily(files, config);
}
