// The TextTokenizer interface over both implementations, on small generated tokenizer files:
// which implementation the files pick, special tokens, truncation, padding and cleaning.
// Parity with real SigLIP, Gemma and XLM-R vocabularies is tokenizer-families.test.ts.
import { describe, expect, it } from 'vitest';
import {
  ClipTokenizer,
  LibraryTokenizer,
  TokenizerConfigError,
  cleanFamilyText,
  loadTextTokenizer,
  type TextTokenizer,
} from '../../embedder/text/index.ts';
import { BYTE_TO_SYMBOL } from '../../embedder/text/byte-level.ts';

const SPECIALS = ['<pad>', '</s>', '<unk>', '<s>'];
const PIECES: [string, number][] = [['▁a', -2], ['▁cat', -3], ['▁cats', -3.5], ['▁', -4], ['a', -5], ['c', -6], ['t', -6], ['s', -6]];
const [PAD, EOS, , BOS] = [0, 1, 2, 3];
const [A, CAT, CATS] = [4, 5, 6];

/** A SentencePiece-style Unigram tokenizer.json whose post-processor writes `template` around a text. */
function unigramJson(template: string[] = ['$A', '</s>']): Record<string, unknown> {
  const single = template.map((part) =>
    part === '$A' ? { Sequence: { id: 'A', type_id: 0 } } : { SpecialToken: { id: part, type_id: 0 } },
  );
  const special = Object.fromEntries(
    template.filter((part) => part !== '$A').map((part) => [part, { id: part, ids: [SPECIALS.indexOf(part)], tokens: [part] }]),
  );
  return {
    added_tokens: SPECIALS.map((content, id) => ({ id, content, special: true, single_word: false, lstrip: false, rstrip: false, normalized: false })),
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: { type: 'TemplateProcessing', single, pair: single, special_tokens: special },
    decoder: null,
    model: { type: 'Unigram', unk_id: 2, vocab: [...SPECIALS.map((token) => [token, 0]), ...PIECES], byte_fallback: false },
  };
}

function clipJson(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  BYTE_TO_SYMBOL.forEach((symbol, byte) => {
    vocab[symbol] = byte;
    vocab[`${symbol}</w>`] = 256 + byte;
  });
  return {
    added_tokens: [
      { id: 512, content: '<|startoftext|>', special: true },
      { id: 513, content: '<|endoftext|>', special: true },
    ],
    model: { type: 'BPE', vocab, merges: [], end_of_word_suffix: '</w>', unk_token: '<|endoftext|>' },
  };
}

describe('loadTextTokenizer picks the implementation from the files', () => {
  it('keeps CLIP byte-level BPE on the hand-written ClipTokenizer', () => {
    const tokenizer: TextTokenizer = loadTextTokenizer({ tokenizerJson: clipJson() });
    expect(tokenizer).toBeInstanceOf(ClipTokenizer);
    expect(tokenizer.kind).toBe('clip-bpe');
    expect([tokenizer.startId, tokenizer.endId, tokenizer.padId, tokenizer.contextLength]).toEqual([512, 513, 513, 77]);
  });

  it('runs other tokenizer.json models through @huggingface/tokenizers', () => {
    const tokenizer = loadTextTokenizer({ tokenizerJson: unigramJson(), tokenizerConfig: { pad_token: '</s>' } }, { contextLength: 64 });
    expect(tokenizer).toBeInstanceOf(LibraryTokenizer);
    expect(tokenizer.kind).toBe('library');
    expect(tokenizer.vocabSize).toBe(SPECIALS.length + PIECES.length);
  });

  it('refuses a model type it cannot run, naming what it found', () => {
    const wordLevel = { model: { type: 'WordLevel', vocab: { a: 0 }, unk_token: 'a' } };
    expect(() => loadTextTokenizer({ tokenizerJson: wordLevel, source: 'm/tokenizer.json' })).toThrow(TokenizerConfigError);
    expect(() => loadTextTokenizer({ tokenizerJson: wordLevel, source: 'm/tokenizer.json' })).toThrow(
      /m\/tokenizer\.json: model\.type "WordLevel" is not supported/,
    );
    expect(() => loadTextTokenizer({ tokenizerJson: [] })).toThrow(/not a tokenizer\.json/);
  });

  it('refuses a pad token missing from the vocabulary, and text cleaning it does not know', () => {
    expect(() => loadTextTokenizer({ tokenizerJson: unigramJson(), tokenizerConfig: { pad_token: '<nope>' } })).toThrow(
      /pad_token "<nope>" is not in the vocabulary/,
    );
    const modelConfig = { text_cfg: { tokenizer_kwargs: { clean: 'shout' } } };
    expect(() => loadTextTokenizer({ tokenizerJson: unigramJson(), tokenizerConfig: { pad_token: '<pad>' } }, { modelConfig })).toThrow(
      /text cleaning "shout"/,
    );
  });
});

describe('LibraryTokenizer: special tokens, truncation and padding', () => {
  const files = { tokenizerJson: unigramJson(['<s>', '$A', '</s>']), tokenizerConfig: { pad_token: '<pad>' } };

  it('puts the post-processor tokens around each text', () => {
    const tokenizer = loadTextTokenizer(files, { contextLength: 8 });
    expect([tokenizer.startId, tokenizer.endId, tokenizer.padId]).toEqual([BOS, EOS, PAD]);
    expect(tokenizer.encode('a cats')).toEqual([BOS, A, CATS, EOS]);
  });

  it('truncates the text, never the tokens around it', () => {
    const tokenizer = loadTextTokenizer(files, { contextLength: 4 });
    expect(tokenizer.encode('a cat a cat a cat')).toEqual([BOS, A, CAT, EOS]);
    expect(() => loadTextTokenizer(files, { contextLength: 2 })).toThrow(/contextLength must be an integer >= 3/);
  });

  it('follows add_bos_token / add_eos_token where the config sets them (Gemma, Llama)', () => {
    const config = { pad_token: '<pad>', bos_token: '<s>', eos_token: '</s>' };
    const eosOnly = loadTextTokenizer({ ...files, tokenizerConfig: { ...config, add_bos_token: false, add_eos_token: true } });
    expect(eosOnly.encode('a cat')).toEqual([A, CAT, EOS]);
    expect([eosOnly.startId, eosOnly.endId]).toEqual([null, EOS]);
    const bosOnly = loadTextTokenizer({ ...files, tokenizerConfig: { ...config, add_eos_token: false } });
    expect(bosOnly.encode('a cat')).toEqual([BOS, A, CAT]);
  });

  it('pads to the context or to the longest row, with the pad id and a zero mask', () => {
    const tokenizer = loadTextTokenizer(files, { contextLength: 6 });
    const batch = tokenizer.tokenize(['a', 'a cat a']);
    expect(batch.length).toBe(6);
    expect(Array.from(batch.ids)).toEqual([BOS, A, EOS, PAD, PAD, PAD, BOS, A, CAT, A, EOS, PAD]);
    expect(Array.from(batch.attentionMask)).toEqual([1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 0]);
    expect(batch.lengths).toEqual([3, 5]);
    const longest = tokenizer.tokenize(['a', 'a cat a'], { padTo: 'longest', padId: EOS });
    expect(Array.from(longest.ids)).toEqual([BOS, A, EOS, EOS, EOS, BOS, A, CAT, A, EOS]);
  });

  it('takes the context length from a model config or the file’s fixed padding', () => {
    expect(loadTextTokenizer(files, { modelConfig: { text_config: { max_position_embeddings: 64 } } }).contextLength).toBe(64);
    const fixed = { ...files, tokenizerJson: { ...unigramJson(), padding: { strategy: { Fixed: 32 }, pad_id: 1 } } };
    expect(loadTextTokenizer(fixed).contextLength).toBe(32);
    expect(loadTextTokenizer(files).contextLength).toBe(77);
  });
});

describe('text cleaning of the new families', () => {
  it('canonicalizes for a SiglipTokenizer: lower case, no ASCII punctuation, single spaces', () => {
    const tokenizer = loadTextTokenizer({ tokenizerJson: unigramJson(), tokenizerConfig: { pad_token: '</s>', tokenizer_class: 'SiglipTokenizer' } });
    expect(tokenizer.encode('  A   "Cat"!  ')).toEqual([A, CAT, EOS]);
    expect(cleanFamilyText(' Ein_Hund,  das Ünd-so\u3000weiter.\t', 'canonicalize')).toBe('einhund das ündso weiter');
  });

  it('follows an OpenCLIP config: whitespace by default (as Immich), or what tokenizer_kwargs.clean names', () => {
    const base = { tokenizerJson: unigramJson(), tokenizerConfig: { pad_token: '</s>' } };
    const immich = loadTextTokenizer(base, { modelConfig: { text_cfg: {} } }) as LibraryTokenizer;
    expect(immich.cleaning).toBe('whitespace');
    const lower = loadTextTokenizer(base, { modelConfig: { text_cfg: { tokenizer_kwargs: { clean: 'lower' } } } }) as LibraryTokenizer;
    expect(lower.cleaning).toBe('lower');
    expect((loadTextTokenizer(base) as LibraryTokenizer).cleaning).toBe('none');
    const gemma = { ...base, tokenizerConfig: { pad_token: '</s>', tokenizer_class: 'GemmaTokenizer', do_lower_case: true } };
    expect((loadTextTokenizer(gemma) as LibraryTokenizer).cleaning).toBe('lowercase');
  });

  it('collapses whitespace as Python does: U+001C–U+001F are whitespace, U+FEFF is not', () => {
    expect(cleanFamilyText('\u001ca\u3000\u0085b\ufeff ', 'whitespace')).toBe('a b\ufeff');
    expect(cleanFamilyText(' A  B ', 'none')).toBe(' A  B ');
    expect(cleanFamilyText(' A  B ', 'lowercase')).toBe(' a  b ');
    expect(cleanFamilyText(' A  B ', 'lower')).toBe('a b');
  });
});
