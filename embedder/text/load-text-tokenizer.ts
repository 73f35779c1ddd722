/**
 * Picks the tokenizer a model's files call for: CLIP's byte-level BPE (the hand-written
 * `ClipTokenizer`, exact to openai's cleaning) when the tokenizer.json is CLIP's, otherwise
 * @huggingface/tokenizers (`LibraryTokenizer`) for the model types it runs.
 */

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONTEXT_LENGTH } from './clip-tokenizer.ts';
import { TokenizerConfigError } from './errors.ts';
import { FAMILY_CLEANINGS, type FamilyCleaning } from './family-cleaning.ts';
import { LIBRARY_MODEL_TYPES, LibraryTokenizer, modelTypeOf, type LibraryTokenizerFiles } from './library-tokenizer.ts';
import { contextLengthFromModelConfig, loadClipTokenizer } from './load-clip-tokenizer.ts';
import type { TextTokenizer } from './text-tokenizer.ts';
import { START_NAMES } from './tokenizer-json.ts';

export interface LoadTextTokenizerOptions {
  /** Ids per row; otherwise from `modelConfig`, then the tokenizer.json's fixed padding or truncation, then 77. */
  readonly contextLength?: number;
  /** The model's parsed `config.json` (context length; OpenCLIP's `text_cfg.tokenizer_kwargs.clean`). */
  readonly modelConfig?: unknown;
  /** Default pad id; otherwise CLIP's end token, or the pad token the tokenizer config names. */
  readonly padId?: number;
  /**
   * Cleaning before a library tokenizer (family-cleaning.ts); otherwise OpenCLIP's `clean` from
   * `modelConfig`, `whitespace` for an OpenCLIP/Immich config (Immich's `clean_text`),
   * `canonicalize` for a `SiglipTokenizer`, `lowercase` for another `do_lower_case` tokenizer
   * config (SigLIP 2's Gemma), else `none` (as transformers runs a tokenizer.json).
   * CLIP's BPE always cleans as openai's CLIP does.
   */
  readonly cleaning?: FamilyCleaning;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Loads the tokenizer of a model from its `tokenizer.json` path, the directory holding it (with
 * `tokenizer_config.json` and `special_tokens_map.json` beside it when present), or the parsed files.
 */
export function loadTextTokenizer(
  source: string | URL | LibraryTokenizerFiles,
  options: LoadTextTokenizerOptions = {},
): TextTokenizer {
  const files = typeof source === 'string' || source instanceof URL ? readTokenizerFiles(source) : source;
  const name = files.source ?? 'tokenizer.json';
  const json = files.tokenizerJson;
  if (!isObject(json) || !isObject(json['model'])) {
    throw new TokenizerConfigError(`${name}: not a tokenizer.json (expected an object with a "model" object)`);
  }
  const modelType = modelTypeOf(json['model']);

  if (modelType === 'BPE' && hasClipStartToken(json)) {
    const { contextLength, padId, modelConfig } = options;
    return loadClipTokenizer(json, {
      ...(contextLength === undefined ? {} : { contextLength }),
      ...(padId === undefined ? {} : { padId }),
      ...(modelConfig === undefined ? {} : { modelConfig }),
    });
  }
  if (!LIBRARY_MODEL_TYPES.includes(modelType as (typeof LIBRARY_MODEL_TYPES)[number])) {
    throw new TokenizerConfigError(
      `${name}: model.type ${JSON.stringify(modelType)} is not supported ` +
        `(CLIP byte-level BPE, or ${LIBRARY_MODEL_TYPES.join('/')} through @huggingface/tokenizers)`,
    );
  }
  const contextLength =
    options.contextLength ??
    contextLengthFromModelConfig(options.modelConfig) ??
    contextLengthFromTokenizerJson(json) ??
    DEFAULT_CONTEXT_LENGTH;
  const cleaning = options.cleaning ?? cleaningFromConfigs(options.modelConfig, files.tokenizerConfig, name);
  return new LibraryTokenizer(files, {
    contextLength,
    cleaning,
    ...(options.padId === undefined ? {} : { padId: options.padId }),
  });
}

/** Reads tokenizer.json and, beside it, tokenizer_config.json and special_tokens_map.json. */
export function readTokenizerFiles(source: string | URL): LibraryTokenizerFiles {
  let path = source instanceof URL ? fileURLToPath(source) : source;
  const read = (file: string): unknown => {
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new TokenizerConfigError(`cannot read tokenizer file ${file}: ${(error as Error).message}`, { cause: error });
    }
  };
  if (existsSync(path) && statSync(path).isDirectory()) path = join(path, 'tokenizer.json');
  const beside = (file: string): unknown => (existsSync(join(dirname(path), file)) ? read(join(dirname(path), file)) : undefined);
  return {
    tokenizerJson: read(path),
    tokenizerConfig: beside('tokenizer_config.json'),
    specialTokensMap: beside('special_tokens_map.json'),
    source: path,
  };
}

function hasClipStartToken(json: Json): boolean {
  const model = json['model'] as Json;
  const vocab = isObject(model['vocab']) ? model['vocab'] : {};
  const added = Array.isArray(json['added_tokens']) ? (json['added_tokens'] as unknown[]) : [];
  return START_NAMES.some(
    (name) => Object.hasOwn(vocab, name) || added.some((token) => isObject(token) && token['content'] === name),
  );
}

/** The length a tokenizer.json pads to (`padding.strategy.Fixed`) or truncates at. */
function contextLengthFromTokenizerJson(json: Json): number | undefined {
  const padding = json['padding'];
  const strategy = isObject(padding) ? padding['strategy'] : undefined;
  const fixed = isObject(strategy) ? strategy['Fixed'] : undefined;
  if (typeof fixed === 'number') return fixed;
  const truncation = json['truncation'];
  const max = isObject(truncation) ? truncation['max_length'] : undefined;
  return typeof max === 'number' ? max : undefined;
}

function cleaningFromConfigs(modelConfig: unknown, tokenizerConfig: unknown, name: string): FamilyCleaning {
  const textCfg = isObject(modelConfig) ? modelConfig['text_cfg'] : undefined;
  if (isObject(textCfg)) {
    const kwargs = textCfg['tokenizer_kwargs'];
    const clean = isObject(kwargs) ? kwargs['clean'] : undefined;
    if (clean === undefined) return 'whitespace';
    if (FAMILY_CLEANINGS.includes(clean as FamilyCleaning)) return clean as FamilyCleaning;
    throw new TokenizerConfigError(
      `${name}: the model config asks for text cleaning ${JSON.stringify(clean)}; supported: ${FAMILY_CLEANINGS.join(', ')}`,
    );
  }
  if (!isObject(tokenizerConfig)) return 'none';
  if (tokenizerConfig['tokenizer_class'] === 'SiglipTokenizer') return 'canonicalize';
  return tokenizerConfig['do_lower_case'] === true ? 'lowercase' : 'none';
}
