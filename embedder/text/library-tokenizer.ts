/**
 * A Hugging Face `tokenizer.json` (SentencePiece Unigram of SigLIP and XLM-RoBERTa, Gemma's BPE of
 * SigLIP 2, ...) run by @huggingface/tokenizers, with what the model families add around it:
 * their text cleaning, the special tokens their configs ask for, truncation that keeps the
 * special tokens, and padding.
 */

import { Tokenizer } from '@huggingface/tokenizers';
import { TokenizerConfigError } from './errors.ts';
import { cleanFamilyText, type FamilyCleaning } from './family-cleaning.ts';
import { PrecompiledCharsmap } from './precompiled-charsmap.ts';
import type { TextTokenizer } from './text-tokenizer.ts';
import {
  encodeBatch,
  validateContextLength,
  validatePadId,
  type TokenizedBatch,
  type TokenizeOptions,
} from './token-batch.ts';

export interface LibraryTokenizerFiles {
  /** Parsed `tokenizer.json`. */
  readonly tokenizerJson: unknown;
  /** Parsed `tokenizer_config.json`, if the model has one. */
  readonly tokenizerConfig?: unknown;
  /** Parsed `special_tokens_map.json`, if the model has one. */
  readonly specialTokensMap?: unknown;
  /** Names the files in errors. */
  readonly source?: string;
}

export interface LibraryTokenizerOptions {
  /** Ids per row, special tokens included. */
  readonly contextLength: number;
  /** Default pad id; otherwise the id of the configured pad token. */
  readonly padId?: number;
  /** Cleaning applied before the tokenizer (family-cleaning.ts). Default `none`. */
  readonly cleaning?: FamilyCleaning;
}

type Json = Record<string, unknown>;

/**
 * The part of the library's `Tokenizer` used here. Its published .d.ts files import each other
 * without extensions, which NodeNext resolution does not follow, so the class arrives untyped.
 */
interface EncodingTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): { ids: number[] };
  token_to_id(token: string): number | undefined;
}

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Model types of tokenizer.json this wrapper accepts (all run by the library). */
export const LIBRARY_MODEL_TYPES = ['Unigram', 'BPE', 'WordPiece'] as const;

// Encoded with and without special tokens to learn what the post-processor adds around a text.
const PROBE_TEXT = 'a photo of a cat';

export class LibraryTokenizer implements TextTokenizer {
  readonly kind = 'library';
  /** `model.type` of the tokenizer.json. */
  readonly modelType: string;
  readonly contextLength: number;
  readonly padId: number;
  readonly vocabSize: number;
  readonly startId: number | null;
  readonly endId: number | null;
  readonly cleaning: FamilyCleaning;
  /** Ids put before and after every text. */
  readonly prefixIds: readonly number[];
  readonly suffixIds: readonly number[];

  readonly #tokenizer: EncodingTokenizer;
  /** SentencePiece's own character normalisation, run here instead of the library's approximation. */
  readonly #charsmap: PrecompiledCharsmap | null;

  constructor(files: LibraryTokenizerFiles, options: LibraryTokenizerOptions) {
    const source = files.source ?? 'tokenizer.json';
    const fail: (message: string) => never = (message) => {
      throw new TokenizerConfigError(`${source}: ${message}`);
    };
    const json = files.tokenizerJson;
    if (!isObject(json)) fail('expected a JSON object');
    const model = (json as Json)['model'];
    if (!isObject(model)) fail('missing "model" object');
    const modelType = modelTypeOf(model as Json);
    if (!LIBRARY_MODEL_TYPES.includes(modelType as (typeof LIBRARY_MODEL_TYPES)[number])) {
      fail(`model.type is ${JSON.stringify(modelType)}; supported: ${LIBRARY_MODEL_TYPES.join(', ')}`);
    }
    this.modelType = modelType as string;
    const config = isObject(files.tokenizerConfig) ? files.tokenizerConfig : {};
    const specialTokensMap = isObject(files.specialTokensMap) ? files.specialTokensMap : {};

    const { charsmap, normalizer } = splitPrecompiled((json as Json)['normalizer'], fail);
    this.#charsmap = charsmap;
    try {
      // The library reads `added_tokens` unconditionally.
      const libraryJson = { added_tokens: [], ...(json as Json), normalizer, model: { ...(model as Json), type: modelType } };
      this.#tokenizer = new Tokenizer(libraryJson, config) as EncodingTokenizer;
    } catch (error) {
      throw new TokenizerConfigError(`${source}: @huggingface/tokenizers cannot load it: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const idOfConfigured = (key: string): number | undefined => {
      const content = tokenContent(config[key]) ?? tokenContent(specialTokensMap[key]);
      if (content === undefined) return undefined;
      const id = this.#tokenizer.token_to_id(content);
      if (id === undefined) fail(`${key} ${JSON.stringify(content)} is not in the vocabulary`);
      return id;
    };

    const { prefix, suffix } = this.#specialTokensAround(source);
    // Llama/Gemma-style configs: transformers rebuilds the post-processor from these flags.
    const addBos = config['add_bos_token'];
    const addEos = config['add_eos_token'];
    const bosId = typeof addBos === 'boolean' ? idOfConfigured('bos_token') : undefined;
    const eosId = typeof addEos === 'boolean' ? idOfConfigured('eos_token') : undefined;
    if (typeof addBos === 'boolean') {
      if (addBos && bosId === undefined) fail('add_bos_token is true but no bos_token is configured');
      prefix.splice(0, prefix.length, ...(addBos ? [bosId!] : []));
    }
    if (typeof addEos === 'boolean') {
      if (addEos && eosId === undefined) fail('add_eos_token is true but no eos_token is configured');
      suffix.splice(0, suffix.length, ...(addEos ? [eosId!] : []));
    }
    this.prefixIds = prefix;
    this.suffixIds = suffix;
    this.startId = prefix[0] ?? null;
    this.endId = suffix.at(-1) ?? null;

    this.contextLength = validateContextLength(options.contextLength, prefix.length + suffix.length + 1);
    const padId = options.padId ?? idOfConfigured('pad_token') ?? paddingId((json as Json)['padding']);
    if (padId === undefined) fail('no pad token: tokenizer_config.json/special_tokens_map.json name none, and no padding.pad_id');
    this.padId = validatePadId(padId);
    this.cleaning = options.cleaning ?? 'none';
    this.vocabSize = vocabularySize(model as Json, (json as Json)['added_tokens']);
  }

  encode(text: string): number[] {
    if (typeof text !== 'string') {
      throw new TypeError(`LibraryTokenizer.encode expects a string, got ${typeof text}`);
    }
    const cleaned = cleanFamilyText(text, this.cleaning);
    const normalized = this.#charsmap === null ? cleaned : this.#charsmap.normalize(cleaned);
    const content = this.#tokenizer.encode(normalized, { add_special_tokens: false }).ids;
    const room = this.contextLength - this.prefixIds.length - this.suffixIds.length;
    if (content.length > room) content.length = room;
    return [...this.prefixIds, ...content, ...this.suffixIds];
  }

  tokenize(texts: readonly string[], options: TokenizeOptions = {}): TokenizedBatch {
    return encodeBatch('LibraryTokenizer', texts, (text) => this.encode(text), this.contextLength, this.padId, options);
  }

  /** What the tokenizer.json's post-processor puts before and after a single text. */
  #specialTokensAround(source: string): { prefix: number[]; suffix: number[] } {
    const plain = this.#tokenizer.encode(PROBE_TEXT, { add_special_tokens: false }).ids;
    const full = this.#tokenizer.encode(PROBE_TEXT, { add_special_tokens: true }).ids;
    for (let start = 0; start + plain.length <= full.length; start++) {
      if (plain.every((id, i) => full[start + i] === id)) {
        return { prefix: full.slice(0, start), suffix: full.slice(start + plain.length) };
      }
    }
    throw new TokenizerConfigError(`${source}: its post_processor changes the text ids themselves; only tokens added around them are supported`);
  }
}

/**
 * `model.type`, or for files written before tokenizers stated it, the type its fields imply (as the
 * Rust crate's untagged deserialisation reads them).
 */
export function modelTypeOf(model: Json): string {
  if (typeof model['type'] === 'string') return model['type'];
  if (Array.isArray(model['vocab'])) return 'Unigram';
  if ('merges' in model) return 'BPE';
  if ('continuing_subword_prefix' in model || 'max_input_chars_per_word' in model) return 'WordPiece';
  return 'WordLevel';
}

/**
 * Takes a leading `Precompiled` step (SentencePiece's charsmap) out of a tokenizer.json normaliser,
 * to be run exactly by PrecompiledCharsmap; the rest stays with the library. A Precompiled step
 * anywhere else is left to the library.
 */
function splitPrecompiled(
  normalizer: unknown,
  fail: (message: string) => never,
): { charsmap: PrecompiledCharsmap | null; normalizer: unknown } {
  const charsmapOf = (step: unknown): PrecompiledCharsmap | null | undefined => {
    if (!isObject(step) || step['type'] !== 'Precompiled') return undefined;
    const base64 = step['precompiled_charsmap'];
    if (base64 === null || base64 === undefined || base64 === '') return null;
    if (typeof base64 !== 'string') return fail('normalizer Precompiled: precompiled_charsmap is not a base64 string');
    try {
      return PrecompiledCharsmap.fromBase64(base64);
    } catch (error) {
      return fail(`normalizer Precompiled: ${(error as Error).message}`);
    }
  };
  const alone = charsmapOf(normalizer);
  if (alone !== undefined) return { charsmap: alone, normalizer: null };
  if (isObject(normalizer) && normalizer['type'] === 'Sequence' && Array.isArray(normalizer['normalizers'])) {
    const [first, ...rest] = normalizer['normalizers'] as unknown[];
    const leading = charsmapOf(first);
    if (leading !== undefined) return { charsmap: leading, normalizer: { ...normalizer, normalizers: rest } };
  }
  return { charsmap: null, normalizer };
}

/** A special token in a config: a string, or an AddedToken object with `content`. */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value['content'] === 'string') return value['content'];
  return undefined;
}

function paddingId(padding: unknown): number | undefined {
  return isObject(padding) && typeof padding['pad_id'] === 'number' ? padding['pad_id'] : undefined;
}

/** One more than the largest id of the model's vocabulary or the added tokens. */
function vocabularySize(model: Json, addedTokens: unknown): number {
  let maxId = -1;
  const vocab = model['vocab'];
  if (Array.isArray(vocab)) maxId = vocab.length - 1; // Unigram: [piece, score] pairs, id = index
  else if (isObject(vocab)) for (const id of Object.values(vocab)) if (typeof id === 'number') maxId = Math.max(maxId, id);
  if (Array.isArray(addedTokens)) {
    for (const token of addedTokens) if (isObject(token) && typeof token['id'] === 'number') maxId = Math.max(maxId, token['id']);
  }
  return maxId + 1;
}
