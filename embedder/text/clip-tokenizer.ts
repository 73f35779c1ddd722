/**
 * CLIP text tokenizer: openai's text cleaning, CLIP's pre-tokenizer, byte-level BPE, then
 * `[start] + ids + [end]`, truncated to the context length with the end token kept last.
 */

import { BytePairEncoder } from './bpe.ts';
import { toByteSymbols } from './byte-level.ts';
import { cleanClipText } from './clean-text.ts';
import { createPreTokenizer } from './pre-tokenize.ts';
import type { TextTokenizer } from './text-tokenizer.ts';
import { describeValue, encodeBatch, validatePadId, type TokenizedBatch, type TokenizeOptions } from './token-batch.ts';
import type { ClipVocabulary } from './tokenizer-json.ts';

export type { TokenizedBatch, TokenizeOptions } from './token-batch.ts';

export const DEFAULT_CONTEXT_LENGTH = 77;

export interface ClipTokenizerOptions {
  /** Tokens per sequence, start and end tokens included. Default 77. */
  readonly contextLength?: number;
  /** Default pad id of `tokenize`. Default: the end-of-text id, as Hugging Face pads. */
  readonly padId?: number;
  /** Pre-tokens whose BPE ids are remembered. Default 10,000. */
  readonly wordCacheSize?: number;
}

export class ClipTokenizer implements TextTokenizer {
  readonly kind = 'clip-bpe';
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

  /** Same as `sotId`: the `TextTokenizer` name. */
  get startId(): number {
    return this.sotId;
  }

  /** Same as `eotId`: the `TextTokenizer` name. */
  get endId(): number {
    return this.eotId;
  }

  /** Encodes and pads a batch into row-major `Int32Array`s ready for a text model. */
  tokenize(texts: readonly string[], options: TokenizeOptions = {}): TokenizedBatch {
    return encodeBatch('ClipTokenizer', texts, (text) => this.encode(text), this.contextLength, this.padId, options);
  }
}
