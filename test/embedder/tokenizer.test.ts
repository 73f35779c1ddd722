import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ClipTokenizer,
  TokenizerConfigError,
  contextLengthFromModelConfig,
  loadClipTokenizer,
  parseTokenizerJson,
} from '../../embedder/text/index.ts';
import { BYTE_TO_SYMBOL } from '../../embedder/text/byte-level.ts';
import { describeWithShared } from '../support/shared-fixtures.ts';

/**
 * A small CLIP-style vocabulary: the 256 byte symbols (id = byte), the same with `</w>`
 * (id = 256 + byte), four merges, then the special tokens as the two highest ids.
 */
function tinyTokenizerJson(options: { mergesAsPairs?: boolean } = {}): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  BYTE_TO_SYMBOL.forEach((symbol, byte) => {
    vocab[symbol] = byte;
    vocab[`${symbol}</w>`] = 256 + byte;
  });
  const merges: [string, string][] = [
    ['c', 'a'],
    ['ca', 't</w>'],
    ['t', 'h'],
    ['th', 'e</w>'],
  ];
  merges.forEach(([left, right], index) => (vocab[left + right] = 512 + index));
  return {
    added_tokens: [
      { id: 516, content: '<|startoftext|>', special: true },
      { id: 517, content: '<|endoftext|>', special: true },
    ],
    model: {
      type: 'BPE',
      vocab,
      merges: options.mergesAsPairs ? merges : merges.map((pair) => pair.join(' ')),
      end_of_word_suffix: '</w>',
      unk_token: '<|endoftext|>',
    },
  };
}

/** Id of a single ASCII byte symbol in the tiny vocabulary, e.g. `t` or `s</w>`. */
const byteId = (symbol: string) => (symbol.endsWith('</w>') ? 256 : 0) + symbol.charCodeAt(0);
const CA = 512;
const CAT = 513;
const THE = 515;
const SOT = 516;
const EOT = 517;

describe('ClipTokenizer on a tiny vocabulary', () => {
  const tokenizer = loadClipTokenizer(tinyTokenizerJson());

  it('takes the special ids and vocabulary size from the tokenizer file', () => {
    expect(tokenizer.sotId).toBe(SOT);
    expect(tokenizer.eotId).toBe(EOT);
    expect(tokenizer.vocabSize).toBe(518);
    expect(tokenizer.contextLength).toBe(77);
  });

  it('wraps BPE ids in start and end tokens, merging lowest-ranked pairs first', () => {
    expect(tokenizer.encode('the cat')).toEqual([SOT, THE, CAT, EOT]);
    expect(tokenizer.encode('cats')).toEqual([SOT, CA, byteId('t'), byteId('s</w>'), EOT]);
  });

  it('reads merges written as "a b" strings or as [a, b] pairs alike', () => {
    const fromPairs = loadClipTokenizer(tinyTokenizerJson({ mergesAsPairs: true }));
    for (const text of ['the cat', 'cats', 'theca']) {
      expect(fromPairs.encode(text)).toEqual(tokenizer.encode(text));
    }
  });

  it('lower-cases, so literal special tokens match in any letter case', () => {
    expect(tokenizer.encode('THE Cat')).toEqual([SOT, THE, CAT, EOT]);
    expect(tokenizer.encode('<|StartOfText|>cat<|ENDOFTEXT|>')).toEqual([SOT, SOT, CAT, EOT, EOT]);
  });

  it('gives [start, end] for empty and whitespace-only text', () => {
    expect(tokenizer.encode('')).toEqual([SOT, EOT]);
    expect(tokenizer.encode(' \t\n\u3000 ')).toEqual([SOT, EOT]);
  });

  it('keeps the first contextLength ids and forces the end token last', () => {
    const short = loadClipTokenizer(tinyTokenizerJson(), { contextLength: 5 });
    expect(short.encode('cat cat cat')).toEqual([SOT, CAT, CAT, CAT, EOT]);
    expect(short.encode('cat cat cat cat cat cat')).toEqual([SOT, CAT, CAT, CAT, EOT]);
  });

  it('maps symbols missing from the vocabulary to the unknown token', () => {
    const json = tinyTokenizerJson();
    const model = json['model'] as { vocab: Record<string, number> };
    delete model.vocab['x</w>'];
    expect(loadClipTokenizer(json).encode('x')).toEqual([SOT, EOT, EOT]);
  });
});

describe('ClipTokenizer.tokenize (batches, padding, attention masks)', () => {
  const tokenizer = loadClipTokenizer(tinyTokenizerJson(), { contextLength: 6 });

  it('pads every row to the context length with the end-of-text id by default', () => {
    const batch = tokenizer.tokenize(['the cat', 'cat']);
    expect(batch.length).toBe(6);
    expect(batch.batchSize).toBe(2);
    expect(batch.lengths).toEqual([4, 3]);
    expect(Array.from(batch.ids)).toEqual([SOT, THE, CAT, EOT, EOT, EOT, SOT, CAT, EOT, EOT, EOT, EOT]);
    expect(Array.from(batch.attentionMask)).toEqual([1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0]);
  });

  it('pads to the longest row of the batch when asked, with any pad id (0 for OpenCLIP)', () => {
    const batch = tokenizer.tokenize(['the cat', 'cat'], { padTo: 'longest', padId: 0 });
    expect(batch.length).toBe(4);
    expect(Array.from(batch.ids)).toEqual([SOT, THE, CAT, EOT, SOT, CAT, EOT, 0]);
    expect(Array.from(batch.attentionMask)).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);
  });

  it('uses the padId given at load time as the default', () => {
    const zeroPadded = loadClipTokenizer(tinyTokenizerJson(), { contextLength: 4, padId: 0 });
    expect(Array.from(zeroPadded.tokenize(['cat']).ids)).toEqual([SOT, CAT, EOT, 0]);
  });

  it('returns Int32Arrays, and an empty batch for no texts', () => {
    const batch = tokenizer.tokenize(['cat']);
    expect(batch.ids).toBeInstanceOf(Int32Array);
    expect(batch.attentionMask).toBeInstanceOf(Int32Array);
    const empty = tokenizer.tokenize([], { padTo: 'longest' });
    expect(empty.ids.length).toBe(0);
    expect(empty.lengths).toEqual([]);
  });
});

describe('input validation', () => {
  const tokenizer = loadClipTokenizer(tinyTokenizerJson());

  it('rejects non-string texts with a TypeError that says what was passed', () => {
    expect(() => tokenizer.encode(42 as unknown as string)).toThrow(/expects a string, got number 42/);
    expect(() => tokenizer.encode(undefined as unknown as string)).toThrow(TypeError);
    expect(() => tokenizer.tokenize('cat' as unknown as string[])).toThrow(/expects an array of strings/);
    expect(() => tokenizer.tokenize(['cat', null as unknown as string])).toThrow(/texts\[1\] is null/);
  });

  it('rejects bad padding options', () => {
    expect(() => tokenizer.tokenize(['cat'], { padId: -1 })).toThrow(RangeError);
    expect(() => tokenizer.tokenize(['cat'], { padId: 1.5 })).toThrow(RangeError);
    expect(() => tokenizer.tokenize(['cat'], { padTo: 'max' as 'context' })).toThrow(TypeError);
    expect(() => loadClipTokenizer(tinyTokenizerJson(), { contextLength: 1 })).toThrow(RangeError);
  });

  it('rejects tokenizer files it cannot use, naming the problem', () => {
    const withModel = (model: Record<string, unknown>) => ({ ...tinyTokenizerJson(), model });
    const base = tinyTokenizerJson()['model'] as Record<string, unknown>;
    expect(() => parseTokenizerJson({})).toThrow(/missing "model"/);
    expect(() => parseTokenizerJson(withModel({ ...base, type: 'Unigram' }))).toThrow(/only BPE/);
    expect(() => parseTokenizerJson(withModel({ ...base, merges: ['a b c'] }))).toThrow(/merges\[0\]/);
    expect(() => parseTokenizerJson(withModel({ ...base, vocab: { a: 'one' } }))).toThrow(/model\.vocab/);
    expect(() => parseTokenizerJson({ model: base })).toThrow(/no start-of-text token/);
    expect(() => parseTokenizerJson([])).toThrow(TokenizerConfigError);
    expect(() => loadClipTokenizer('/nonexistent/tokenizer.json')).toThrow(TokenizerConfigError);
  });
});

describe('contextLengthFromModelConfig', () => {
  it('reads the Hugging Face and OpenCLIP config layouts', () => {
    expect(contextLengthFromModelConfig({ text_config: { max_position_embeddings: 64 } })).toBe(64);
    expect(contextLengthFromModelConfig({ text_cfg: { context_length: 77 } })).toBe(77);
    expect(contextLengthFromModelConfig({ embed_dim: 512 })).toBeUndefined();
    expect(() => contextLengthFromModelConfig({ text_cfg: { context_length: '77' } })).toThrow(TokenizerConfigError);
  });

  it('sets the tokenizer context length unless one is given explicitly', () => {
    const config = { text_cfg: { context_length: 5 } };
    expect(loadClipTokenizer(tinyTokenizerJson(), { modelConfig: config }).contextLength).toBe(5);
    expect(loadClipTokenizer(tinyTokenizerJson(), { modelConfig: config, contextLength: 9 }).contextLength).toBe(9);
  });
});

interface TokenizerCase {
  text: string;
  ids: number[];
  hf_fast_ids?: number[];
  tags?: string[];
  note?: string;
}

describeWithShared('the real CLIP vocabulary (shared fixtures)', ['clip-vocab', 'fixtures/clip-tokenizer-cases.json'], (vocabDir, casesFile) => {
  const tokenizerFile = join(vocabDir, 'tokenizer.json');
  const cases: TokenizerCase[] = JSON.parse(readFileSync(casesFile, 'utf8'));
  let tokenizer: ClipTokenizer;
  beforeAll(() => {
    tokenizer = loadClipTokenizer(tokenizerFile);
  });

  it('has the openai vocabulary layout', () => {
    expect(cases).toHaveLength(31);
    expect(tokenizer.sotId).toBe(49406);
    expect(tokenizer.eotId).toBe(49407);
    expect(tokenizer.vocabSize).toBe(49408);
  });

  // Compare the first len(ids) ids; with `eot-inside` 49407 also appears before the end.
  it.each(cases.map((c) => [JSON.stringify(c.text).slice(0, 60), c] as const))(
    'reproduces the openai reference ids for %s',
    (_label, c) => {
      const encoded = tokenizer.encode(c.text);
      expect(encoded.slice(0, c.ids.length)).toEqual(c.ids);
      expect(encoded).toHaveLength(c.ids.length);
    },
  );

  it('follows the openai reference (ftfy, HTML unescaping) where HF tokenizer.json differs', () => {
    const differing = cases.filter((c) => c.hf_fast_ids !== undefined);
    expect(differing.length).toBeGreaterThan(0);
    for (const c of differing) expect(tokenizer.encode(c.text)).not.toEqual(c.hf_fast_ids);
  });

  it('matches the golden ids of the docs', () => {
    expect(tokenizer.encode('Hello World')).toEqual([49406, 3306, 1002, 49407]);
    expect(tokenizer.encode('How are you doing?')).toEqual([49406, 829, 631, 592, 1960, 286, 49407]);
  });

  it('truncates a text over 77 tokens to 75 content tokens and keeps the end token last', () => {
    const text = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ');
    const untruncated = loadClipTokenizer(tokenizerFile, { contextLength: 10_000 }).encode(text);
    expect(untruncated.length).toBeGreaterThan(77);
    const encoded = tokenizer.encode(text);
    expect(encoded).toHaveLength(77);
    expect(encoded.slice(0, 76)).toEqual(untruncated.slice(0, 76));
    expect(encoded[76]).toBe(49407);
  });

  it('pads a batch to its longest text or to 77, with the layout’s pad id', () => {
    const longest = tokenizer.tokenize(['a photo of a cat', 'a dog'], { padTo: 'longest' });
    expect(longest.length).toBe(7);
    expect(Array.from(longest.ids.subarray(7))).toEqual([49406, 320, 1929, 49407, 49407, 49407, 49407]);
    const openClip = tokenizer.tokenize(['a dog'], { padId: 0 });
    expect(openClip.length).toBe(77);
    expect(Array.from(openClip.ids.subarray(0, 5))).toEqual([49406, 320, 1929, 49407, 0]);
    expect(openClip.attentionMask.reduce((sum, bit) => sum + bit, 0)).toBe(4);
  });

  it('encodes a short query in microseconds, not milliseconds', () => {
    const query = 'a photo of a dog playing in the snow';
    tokenizer.encode(query);
    // Best of five rounds, so that a pause of the loaded machine in one round does not count.
    const round = () => {
      const start = performance.now();
      for (let i = 0; i < 400; i++) tokenizer.encode(query);
      return ((performance.now() - start) / 400) * 1000;
    };
    const microseconds = Math.min(...Array.from({ length: 5 }, round));
    // Typically ~5 µs; the bound only catches an accidental per-call cost (no cache, regex rebuilds).
    expect(microseconds).toBeLessThan(500);
  });
});

describeWithShared('tokenizer files shipped with the tiny exported models', ['fixtures/exported-models'], (root) => {
  const references = (model: string): TokenizerCase[] =>
    JSON.parse(readFileSync(join(root, model, 'reference-embeddings.json'), 'utf8')).texts;
  const config = (path: string): unknown => JSON.parse(readFileSync(join(root, path), 'utf8'));

  it('loads the Hugging Face layout from its model directory and config.json', () => {
    const tokenizer = loadClipTokenizer(join(root, 'tiny-hf'), { modelConfig: config('tiny-hf/config.json') });
    expect(tokenizer.contextLength).toBe(77);
    for (const { text, ids } of references('tiny-hf')) expect(tokenizer.encode(text)).toEqual(ids);
  });

  it('loads the OpenCLIP/Immich layout from textual/ with the zero pad it needs', () => {
    const tokenizer = loadClipTokenizer(join(root, 'tiny-immich', 'textual', 'tokenizer.json'), {
      modelConfig: config('tiny-immich/config.json'),
      padId: 0,
    });
    expect(tokenizer.contextLength).toBe(77);
    for (const { text, ids } of references('tiny-immich')) {
      const batch = tokenizer.tokenize([text]);
      expect(Array.from(batch.ids.subarray(0, ids.length))).toEqual(ids);
      expect(batch.ids[ids.length]).toBe(0);
    }
  });
});

describe('ClipTokenizer construction', () => {
  it('can be built from an already parsed vocabulary', () => {
    const tokenizer = new ClipTokenizer(parseTokenizerJson(tinyTokenizerJson()), { contextLength: 8 });
    expect(tokenizer.encode('cat')).toEqual([SOT, CAT, EOT]);
    expect(tokenizer.contextLength).toBe(8);
  });
});
