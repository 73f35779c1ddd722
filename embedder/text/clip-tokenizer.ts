/**
 * CLIP text tokenizer: openai's text cleaning, CLIP's pre-tokenizer, byte-level BPE, then
 * `[start] + ids + [end]`, truncated to the context length with the end token kept last.
 */

import { BytePairEncoder } from './bpe.ts';
import { toByteSymbols } from './byte-level.ts';
import { cleanClipText } from './clean-text.ts';
import { createPreTokenizer } from './pre-tokenize.ts';
import type { ClipVocabulary } from './tokenizer-json.ts';

export const DEFAULT_CONTEXT_LENGTH = 77;

export interface ClipTokenizerOptions {
  /** Tokens per sequence, start and end tokens included. Default 77. */
  readonly contextLength?: number;
  /** Default pad id of `tokenize`. Default: the end-of-text id, as Hugging Face pads. */
  readonly padId?: number;
  /** Pre-tokens whose BPE ids are remembered. Default 10,000. */
  readonly wordCacheSize?: number;
}

export interface TokenizeOptions {
  /** Pad every row to the context length (default), or only to the longest row of the batch. */
  readonly padTo?: 'context' | 'longest';
  /** Id written after each row's end token: the end-of-text id for HF exports, 0 for OpenCLIP/Immich. */
  readonly padId?: number;
}

export interface TokenizedBatch {
  /** `batchSize × length` ids, row-major. */
  readonly ids: Int32Array;
  /** 1 for real tokens, 0 for padding; same layout as `ids`. */
  readonly attentionMask: Int32Array;
  /** Ids per row after padding. */
  readonly length: number;
  /** Unpadded ids per row, start and end tokens included. */
  readonly lengths: number[];
  readonly batchSize: number;
}

export class ClipTokenizer {
  readonly sotId: number;
  readonly eotId: number;
  readonly contextLength: number;
  readonly vocabSize: number;
  readonly padId: number;

  readonly #startContent: string;
  readonly #endContent: string;
  readonly #bpe: BytePairEncoder;
  readonly #preTokenize: (cleaned: string) => IterableIterator<string>;

  constructor(vocabulary: ClipVocabulary, options: ClipTokenizerOptions = {}) {
    this.sotId = vocabulary.start.id;
    this.eotId = vocabulary.end.id;
    this.vocabSize = vocabulary.vocabSize;
    this.contextLength = options.contextLength ?? DEFAULT_CONTEXT_LENGTH;
    if (!Number.isInteger(this.contextLength) || this.contextLength < 2) {
      throw new RangeError(`contextLength must be an integer >= 2, got ${options.contextLength}`);
    }
    this.padId = validatePadId(options.padId ?? this.eotId);
    // Matching happens on lower-cased text, so special tokens are recognised in any case.
    this.#startContent = vocabulary.start.content.toLowerCase();
    this.#endContent = vocabulary.end.content.toLowerCase();
    this.#preTokenize = createPreTokenizer(vocabulary.start.content, vocabulary.end.content);
    this.#bpe = new BytePairEncoder(vocabulary, options.wordCacheSize);
  }

  /** Unpadded ids, start and end tokens included, at most `contextLength` of them. */
  encode(text: string): number[] {
    if (typeof text !== 'string') {
      throw new TypeError(`ClipTokenizer.encode expects a string, got ${describeValue(text)}`);
    }
    const ids = [this.sotId];
    for (const piece of this.#preTokenize(cleanClipText(text))) {
      if (piece === this.#startContent) ids.push(this.sotId);
      else if (piece === this.#endContent) ids.push(this.eotId);
      else ids.push(...this.#bpe.encodeWord(toByteSymbols(piece)));
      // Later pieces cannot change the ids kept, so stop once truncation is certain.
      if (ids.length >= this.contextLength) break;
    }
    ids.push(this.eotId);
    if (ids.length > this.contextLength) {
      ids.length = this.contextLength;
      ids[this.contextLength - 1] = this.eotId;
    }
    return ids;
  }

  /** Encodes and pads a batch into row-major `Int32Array`s ready for a text model. */
  tokenize(texts: readonly string[], options: TokenizeOptions = {}): TokenizedBatch {
    if (!Array.isArray(texts)) {
      throw new TypeError(`ClipTokenizer.tokenize expects an array of strings, got ${describeValue(texts)}`);
    }
    const padTo = options.padTo ?? 'context';
    if (padTo !== 'context' && padTo !== 'longest') {
      throw new TypeError(`padTo must be 'context' or 'longest', got ${describeValue(padTo)}`);
    }
    const padId = options.padId === undefined ? this.padId : validatePadId(options.padId);
    const rows = texts.map((text, index) => {
      if (typeof text !== 'string') {
        throw new TypeError(`ClipTokenizer.tokenize: texts[${index}] is ${describeValue(text)}, expected a string`);
      }
      return this.encode(text);
    });
    const lengths = rows.map((row) => row.length);
    const length = padTo === 'context' ? this.contextLength : Math.max(0, ...lengths);

    const ids = new Int32Array(rows.length * length).fill(padId);
    const attentionMask = new Int32Array(rows.length * length);
    rows.forEach((row, index) => {
      ids.set(row, index * length);
      attentionMask.fill(1, index * length, index * length + row.length);
    });
    return { ids, attentionMask, length, lengths, batchSize: rows.length };
  }
}

function validatePadId(padId: unknown): number {
  if (typeof padId !== 'number' || !Number.isInteger(padId) || padId < 0 || padId >= 2 ** 31) {
    throw new RangeError(`padId must be a non-negative 32-bit integer, got ${describeValue(padId)}`);
  }
  return padId;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
