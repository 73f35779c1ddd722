/**
 * What a text tower needs from its tokenizer, whatever the model family: CLIP's byte-level BPE
 * (`ClipTokenizer`, openai's cleaning) or a Hugging Face `tokenizer.json` run by
 * @huggingface/tokenizers (`LibraryTokenizer`: SigLIP, SigLIP 2/Gemma, XLM-RoBERTa).
 */

import type { TokenizedBatch, TokenizeOptions } from './token-batch.ts';

export type { TokenizedBatch, TokenizeOptions } from './token-batch.ts';

/** `clip-bpe`: the hand-written CLIP tokenizer; `library`: @huggingface/tokenizers on tokenizer.json. */
export type TokenizerKind = 'clip-bpe' | 'library';

export interface TextTokenizer {
  readonly kind: TokenizerKind;
  /** Ids per row when padded to the context, special tokens included. */
  readonly contextLength: number;
  /** Default id written after a row's last real token. */
  readonly padId: number;
  /** One more than the largest token id the tokenizer can produce (rows of the token table). */
  readonly vocabSize: number;
  /** Id put before every text (CLIP start of text, XLM-R `<s>`, Gemma `<bos>`), or null when none is. */
  readonly startId: number | null;
  /**
   * Id put after every text and kept last by truncation (CLIP end of text, pooled by CLIP towers;
   * SigLIP/XLM-R `</s>`), or null when none is.
   */
  readonly endId: number | null;
  /** Unpadded ids of one text, special tokens included, at most `contextLength` of them. */
  encode(text: string): number[];
  /** Encodes and pads a batch into row-major `Int32Array`s ready for a text model. */
  tokenize(texts: readonly string[], options?: TokenizeOptions): TokenizedBatch;
}
