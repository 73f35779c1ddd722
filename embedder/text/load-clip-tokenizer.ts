import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClipTokenizer } from './clip-tokenizer.ts';
import type { ClipTokenizerOptions } from './clip-tokenizer.ts';
import { TokenizerConfigError } from './errors.ts';
import { parseTokenizerJson } from './tokenizer-json.ts';

export interface LoadClipTokenizerOptions extends ClipTokenizerOptions {
  /**
   * The model's parsed `config.json`, to read the context length from when `contextLength`
   * is not given (HF `text_config.max_position_embeddings`, OpenCLIP `text_cfg.context_length`).
   */
  readonly modelConfig?: unknown;
}

/**
 * Loads a CLIP tokenizer from a `tokenizer.json` file, a directory holding one, or its
 * already-parsed JSON.
 */
export function loadClipTokenizer(
  source: string | URL | object,
  options: LoadClipTokenizerOptions = {},
): ClipTokenizer {
  const { json, name } = readSource(source);
  const vocabulary = parseTokenizerJson(json, name);
  const { modelConfig, ...tokenizerOptions } = options;
  const contextLength = options.contextLength ?? contextLengthFromModelConfig(modelConfig);
  return new ClipTokenizer(
    vocabulary,
    contextLength === undefined ? tokenizerOptions : { ...tokenizerOptions, contextLength },
  );
}

/** The text context length a CLIP `config.json` declares, if any. */
export function contextLengthFromModelConfig(config: unknown): number | undefined {
  const read = (object: unknown, key: string): unknown =>
    typeof object === 'object' && object !== null ? (object as Record<string, unknown>)[key] : undefined;
  const candidates = [
    read(read(config, 'text_cfg'), 'context_length'),
    read(read(config, 'text_config'), 'max_position_embeddings'),
    read(config, 'max_position_embeddings'),
  ];
  const found = candidates.find((value) => value !== undefined);
  if (found === undefined) return undefined;
  if (typeof found !== 'number' || !Number.isInteger(found) || found < 2) {
    throw new TokenizerConfigError(`model config declares an invalid context length: ${JSON.stringify(found)}`);
  }
  return found;
}

function readSource(source: string | URL | object): { json: unknown; name: string } {
  if (typeof source !== 'string' && !(source instanceof URL)) {
    if (typeof source !== 'object' || source === null) {
      throw new TypeError('loadClipTokenizer expects a path, a URL or parsed tokenizer.json');
    }
    return { json: source, name: 'tokenizer.json' };
  }
  let path = source instanceof URL ? fileURLToPath(source) : source;
  try {
    if (statSync(path).isDirectory()) path = join(path, 'tokenizer.json');
    return { json: JSON.parse(readFileSync(path, 'utf8')), name: path };
  } catch (error) {
    throw new TokenizerConfigError(`cannot read tokenizer file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
