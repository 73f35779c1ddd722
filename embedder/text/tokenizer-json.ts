/**
 * Reads the parts of a Hugging Face `tokenizer.json` that CLIP's byte-level BPE needs:
 * `model.vocab`, `model.merges` (`"a b"` strings, or `["a", "b"]` pairs as tokenizers ≥ 0.20
 * writes them), `model.end_of_word_suffix`, `model.unk_token` and `added_tokens`.
 * Its normalizer and pre-tokenizer are ignored: CLIP's own cleaning replaces them.
 */

import { TokenizerConfigError } from './errors.ts';

export interface ClipVocabulary {
  readonly vocab: ReadonlyMap<string, number>;
  readonly mergeRanks: ReadonlyMap<string, number>;
  readonly endOfWordSuffix: string;
  readonly unknownId: number | undefined;
  readonly start: SpecialToken;
  readonly end: SpecialToken;
  /** One more than the largest id in the vocabulary or the added tokens. */
  readonly vocabSize: number;
}

export interface SpecialToken {
  readonly content: string;
  readonly id: number;
}

/** Names CLIP vocabularies give their start/end tokens: openai/HF, then OpenCLIP. */
export const START_NAMES = ['<|startoftext|>', '<start_of_text>'];
const END_NAMES = ['<|endoftext|>', '<end_of_text>'];

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isTokenId = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 2 ** 31;

export function parseTokenizerJson(json: unknown, source = 'tokenizer.json'): ClipVocabulary {
  const fail = (message: string): never => {
    throw new TokenizerConfigError(`${source}: ${message}`);
  };
  if (!isObject(json)) return fail('expected a JSON object');
  const model = json['model'];
  if (!isObject(model)) return fail('missing "model" object');
  if (model['type'] !== undefined && model['type'] !== 'BPE') {
    return fail(`model.type is ${JSON.stringify(model['type'])}; only BPE (CLIP) tokenizers are supported`);
  }
  const prefix = model['continuing_subword_prefix'];
  if (typeof prefix === 'string' && prefix !== '') {
    return fail('model.continuing_subword_prefix is not supported by CLIP byte-level BPE');
  }

  const vocab = parseVocab(model['vocab'], fail);
  const mergeRanks = parseMerges(model['merges'], fail);
  const suffix = model['end_of_word_suffix'];
  const endOfWordSuffix = typeof suffix === 'string' ? suffix : '';
  const addedTokens = parseAddedTokens(json['added_tokens'], fail);

  const idOf = (content: string): number | undefined => addedTokens.get(content) ?? vocab.get(content);
  const special = (names: readonly string[], postProcessorKey: 'cls' | 'sep', role: string): SpecialToken => {
    const fromPostProcessor = postProcessorToken(json['post_processor'], postProcessorKey);
    const candidates = fromPostProcessor === undefined ? names : [fromPostProcessor, ...names];
    for (const content of candidates) {
      const id = idOf(content);
      if (id !== undefined) return { content, id };
    }
    return fail(`no ${role} token (looked for ${candidates.join(', ')} in added_tokens and model.vocab)`);
  };
  const start = special(START_NAMES, 'cls', 'start-of-text');
  const end = special(END_NAMES, 'sep', 'end-of-text');

  const unkToken = model['unk_token'];
  const unknownId = typeof unkToken === 'string' ? idOf(unkToken) : undefined;

  let maxId = -1;
  for (const id of vocab.values()) maxId = Math.max(maxId, id);
  for (const id of addedTokens.values()) maxId = Math.max(maxId, id);

  return { vocab, mergeRanks, endOfWordSuffix, unknownId, start, end, vocabSize: maxId + 1 };
}

function parseVocab(value: unknown, fail: (message: string) => never): Map<string, number> {
  if (!isObject(value)) return fail('model.vocab must be an object of token → id');
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(value)) {
    if (!isTokenId(id)) fail(`model.vocab[${JSON.stringify(token)}] is not a valid id: ${JSON.stringify(id)}`);
    vocab.set(token, id as number);
  }
  if (vocab.size === 0) fail('model.vocab is empty');
  return vocab;
}

function parseMerges(value: unknown, fail: (message: string) => never): Map<string, number> {
  if (!Array.isArray(value)) return fail('model.merges must be an array');
  const ranks = new Map<string, number>();
  value.forEach((merge: unknown, rank) => {
    let key: string | undefined;
    if (typeof merge === 'string') {
      const parts = merge.split(' ');
      if (parts.length === 2 && parts[0] !== '' && parts[1] !== '') key = merge;
    } else if (Array.isArray(merge) && merge.length === 2) {
      const [left, right] = merge as unknown[];
      if (typeof left === 'string' && typeof right === 'string' && left !== '' && right !== '') key = `${left} ${right}`;
    }
    if (key === undefined) fail(`model.merges[${rank}] is not "left right" or ["left", "right"]: ${JSON.stringify(merge)}`);
    // The first occurrence of a pair keeps its rank.
    if (!ranks.has(key!)) ranks.set(key!, rank);
  });
  return ranks;
}

function parseAddedTokens(value: unknown, fail: (message: string) => never): Map<string, number> {
  const added = new Map<string, number>();
  if (value === undefined || value === null) return added;
  if (!Array.isArray(value)) return fail('added_tokens must be an array');
  value.forEach((token: unknown, index) => {
    if (!isObject(token) || typeof token['content'] !== 'string' || !isTokenId(token['id'])) {
      fail(`added_tokens[${index}] needs a string "content" and an integer "id"`);
    }
    const { content, id } = token as { content: string; id: number };
    added.set(content, id);
  });
  return added;
}

/** `post_processor.cls` / `.sep` of a RobertaProcessing/BertProcessing: `[content, id]`. */
function postProcessorToken(postProcessor: unknown, key: 'cls' | 'sep'): string | undefined {
  if (!isObject(postProcessor)) return undefined;
  const entry = postProcessor[key];
  return Array.isArray(entry) && typeof entry[0] === 'string' ? entry[0] : undefined;
}
