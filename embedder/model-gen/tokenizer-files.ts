/**
 * A CLIP-style byte-level BPE tokenizer, generated (no vocabulary is shipped):
 * the 256 byte symbols in CLIP's `bytes_to_unicode` order, the same with
 * `</w>`, synthetic merges of lowercase letters (two-letter pairs, then
 * three-, then four-letter prefixes, each with and without `</w>`), and the
 * two specials as the highest ids. With the default size that is exactly
 * CLIP's 49,408 ids, `<|startoftext|>` = 49406 and `<|endoftext|>` = 49407,
 * so argmax pooling and every consumer that hard-codes those ids work. The
 * files follow the vendored openai/clip-vit-base-patch32 ones field for field.
 */
import { BYTE_TO_SYMBOL } from '../text/byte-level.ts';
import { CLIP_CONTEXT_LENGTH, CLIP_VOCAB_SIZE } from './arch.ts';
import { indentedJson } from './json-format.ts';

export const START_OF_TEXT = '<|startoftext|>';
export const END_OF_TEXT = '<|endoftext|>';

export interface GeneratedVocabulary {
  /** Tokens in id order; the last two are the specials. */
  readonly tokens: readonly string[];
  /** Merges in rank order, as [left, right]. */
  readonly merges: readonly (readonly [string, string])[];
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz'.split('');
const END_OF_WORD = '</w>';

/** Builds a vocabulary of `vocabSize` ids (≥ 514). Deterministic; no randomness involved. */
export function generateVocabulary(vocabSize: number = CLIP_VOCAB_SIZE): GeneratedVocabulary {
  // GPT-2/CLIP `bytes_to_unicode` symbols in vocabulary order: by code point (printable bytes first).
  const base = [...BYTE_TO_SYMBOL].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));
  const mergeCount = vocabSize - 2 * base.length - 2;
  if (mergeCount < 0) throw new Error(`vocabulary size ${vocabSize} is below the ${2 * base.length + 2} base ids`);
  const merges: [string, string][] = [];
  let prefixes = LETTERS; // word-internal tokens of the previous length
  while (merges.length < mergeCount) {
    const next: string[] = [];
    for (const prefix of prefixes) {
      for (const letter of LETTERS) {
        if (merges.length < mergeCount) merges.push([prefix, letter]);
        if (merges.length < mergeCount) merges.push([prefix, letter + END_OF_WORD]);
        next.push(prefix + letter);
      }
      if (merges.length >= mergeCount) break;
    }
    prefixes = next;
  }
  const tokens = [...base, ...base.map((s) => s + END_OF_WORD), ...merges.map(([l, r]) => l + r), START_OF_TEXT, END_OF_TEXT];
  if (new Set(tokens).size !== tokens.length) throw new Error('generated vocabulary has duplicate tokens');
  return { tokens, merges };
}

const addedTokenFlags = { lstrip: false, normalized: true, rstrip: false, single_word: false };

/** The tokenizer files of both layouts, by file name. */
export function tokenizerFiles(vocabulary: GeneratedVocabulary): Record<string, string> {
  const { tokens, merges } = vocabulary;
  const sot = tokens.length - 2;
  const eot = tokens.length - 1;
  const vocab: Record<string, number> = {};
  tokens.forEach((token, id) => (vocab[token] = id));
  const mergeLines = merges.map(([l, r]) => `${l} ${r}`);

  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      { id: sot, content: START_OF_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
      { id: eot, content: END_OF_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: {
            Regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
          },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [END_OF_TEXT, eot],
      cls: [START_OF_TEXT, sot],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: END_OF_TEXT,
      continuing_subword_prefix: '',
      end_of_word_suffix: END_OF_WORD,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: mergeLines,
    },
  };

  const tokenizerConfig = {
    add_prefix_space: false,
    bos_token: { __type: 'AddedToken', content: START_OF_TEXT, ...addedTokenFlags },
    clean_up_tokenization_spaces: true,
    do_lower_case: true,
    eos_token: { __type: 'AddedToken', content: END_OF_TEXT, ...addedTokenFlags },
    errors: 'replace',
    model_max_length: CLIP_CONTEXT_LENGTH,
    pad_token: END_OF_TEXT,
    tokenizer_class: 'CLIPTokenizer',
    unk_token: { __type: 'AddedToken', content: END_OF_TEXT, ...addedTokenFlags },
  };

  const specialTokensMap = {
    bos_token: { content: START_OF_TEXT, ...addedTokenFlags },
    eos_token: { content: END_OF_TEXT, ...addedTokenFlags },
    pad_token: END_OF_TEXT,
    unk_token: { content: END_OF_TEXT, ...addedTokenFlags },
  };

  return {
    'tokenizer.json': indentedJson(tokenizerJson, 2),
    'tokenizer_config.json': `${indentedJson(tokenizerConfig, 2)}\n`,
    'special_tokens_map.json': `${indentedJson(specialTokensMap, 2)}\n`,
    'vocab.json': JSON.stringify(vocab),
    'merges.txt': `#version: 0.2\n${mergeLines.join('\n')}\n`,
  };
}
