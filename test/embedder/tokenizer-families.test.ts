// The new families' tokenizers (SigLIP, XLM-RoBERTa, SigLIP 2's Gemma, and the real BARThez pair)
// against reference ids made independently: SentencePiece on the family's model plus the family's
// slow-tokenizer rules (test/fixtures/tokenizers/README.md, scripts/fixtures/tokenizers/build.py).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { LibraryTokenizer, loadTextTokenizer, type LoadTextTokenizerOptions } from '../../embedder/text/index.ts';
import { PrecompiledCharsmap } from '../../embedder/text/precompiled-charsmap.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'tokenizers');
const CASES: string[] = JSON.parse(readFileSync(join(FIXTURES, 'cases.json'), 'utf8'));

interface Family {
  readonly options: LoadTextTokenizerOptions;
  readonly contextLength: number;
  readonly padId: number;
  readonly startId: number | null;
  readonly endId: number;
  /**
   * Texts with two segmentations of exactly the same total score, which SentencePiece and the
   * library break differently (test/fixtures/tokenizers/README.md): the same pieces, in another order.
   */
  readonly equalScoreTies: readonly string[];
}

// What Immich ships as config.json beside an XLM-R text tower: the open_clip config of the vision
// model, whose text_cfg states the context length the tokenizer pads to.
const IMMICH_MCLIP_CONFIG = {
  embed_dim: 640,
  vision_cfg: { image_size: 240, layers: 12, width: 896, patch_size: 16 },
  text_cfg: { context_length: 77, vocab_size: 49408, width: 640, heads: 10, layers: 12 },
};
const HF_SIGLIP_CONFIG = { model_type: 'siglip', text_config: { max_position_embeddings: 64 } };
const REPEATED_AB = 'ab'.repeat(300);
const PARTY = '"🎉🎉🎉 party time 🎉"';

const FAMILIES: Record<string, Family> = {
  siglip: { options: { modelConfig: HF_SIGLIP_CONFIG }, contextLength: 64, padId: 1, startId: null, endId: 1, equalScoreTies: [REPEATED_AB] },
  'xlm-roberta': {
    options: { modelConfig: IMMICH_MCLIP_CONFIG },
    contextLength: 77,
    padId: 1,
    startId: 0,
    endId: 2,
    equalScoreTies: [REPEATED_AB, PARTY],
  },
  siglip2: { options: { modelConfig: HF_SIGLIP_CONFIG }, contextLength: 64, padId: 0, startId: null, endId: 1, equalScoreTies: [] },
  barthez: { options: { contextLength: 77, padId: 1 }, contextLength: 77, padId: 1, startId: 0, endId: 2, equalScoreTies: [] },
};

function readJsonIfPresent(path: string): unknown {
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}

function loadFamily(name: string) {
  const dir = join(FIXTURES, name);
  const plain = join(dir, 'tokenizer.json');
  const tokenizerJson = existsSync(plain)
    ? JSON.parse(readFileSync(plain, 'utf8'))
    : JSON.parse(gunzipSync(readFileSync(`${plain}.gz`)).toString('utf8'));
  const tokenizer = loadTextTokenizer(
    {
      tokenizerJson,
      tokenizerConfig: readJsonIfPresent(join(dir, 'tokenizer_config.json')),
      specialTokensMap: readJsonIfPresent(join(dir, 'special_tokens_map.json')),
      source: `${name}/tokenizer.json`,
    },
    FAMILIES[name]!.options,
  );
  const reference = JSON.parse(readFileSync(join(dir, 'reference-ids.json'), 'utf8')) as {
    contextLength: number;
    padId: number;
    ids: number[][];
  };
  return { tokenizer, reference };
}

const sorted = (ids: readonly number[]) => [...ids].sort((a, b) => a - b);

describe.each(Object.keys(FAMILIES))('%s tokenizer', (name) => {
  const family = FAMILIES[name]!;
  const { tokenizer, reference } = loadFamily(name);

  it('runs on @huggingface/tokenizers with the family’s context, pad, start and end ids', () => {
    expect(tokenizer).toBeInstanceOf(LibraryTokenizer);
    expect(tokenizer.contextLength).toBe(family.contextLength);
    expect(tokenizer.padId).toBe(family.padId);
    expect([tokenizer.startId, tokenizer.endId]).toEqual([family.startId, family.endId]);
    expect([reference.contextLength, reference.padId]).toEqual([family.contextLength, family.padId]);
    expect(reference.ids).toHaveLength(CASES.length);
  });

  it('gives SentencePiece’s ids on every case, special tokens and truncation included', () => {
    const differing = CASES.flatMap((text, index) => {
      const ids = tokenizer.encode(text);
      return JSON.stringify(ids) === JSON.stringify(reference.ids[index]) ? [] : [{ text, ids, expected: reference.ids[index] }];
    });
    expect(differing.filter((row) => !family.equalScoreTies.includes(row.text))).toEqual([]);
    for (const tie of differing) expect(sorted(tie.ids)).toEqual(sorted(tie.expected!));
  });

  it('pads a batch to the context with the pad id, masking only the padding', () => {
    const batch = tokenizer.tokenize(CASES);
    expect(batch.length).toBe(family.contextLength);
    CASES.forEach((text, row) => {
      const start = row * batch.length;
      const ids = Array.from(batch.ids.subarray(start, start + batch.length));
      const mask = Array.from(batch.attentionMask.subarray(start, start + batch.length));
      const length = batch.lengths[row]!;
      expect(length).toBe(reference.ids[row]!.length);
      expect(ids.slice(length)).toEqual(Array(batch.length - length).fill(family.padId));
      expect(mask).toEqual([...Array(length).fill(1), ...Array(batch.length - length).fill(0)]);
      expect(ids[length - 1]).toBe(family.endId);
    });
  });

  it('truncates long texts to the context and keeps the end token last', () => {
    const long = CASES.filter((_, index) => reference.ids[index]!.length === family.contextLength);
    expect(long.length).toBeGreaterThanOrEqual(5);
    for (const text of long) {
      const ids = tokenizer.encode(text);
      expect(ids).toHaveLength(family.contextLength);
      expect(ids.at(-1)).toBe(family.endId);
    }
  });
});

describe('PrecompiledCharsmap (SentencePiece’s nmt_nfkc, which the library only approximates)', () => {
  const json = JSON.parse(readFileSync(join(FIXTURES, 'xlm-roberta', 'tokenizer.json'), 'utf8'));
  const charsmap = PrecompiledCharsmap.fromBase64(json.normalizer.normalizers[0].precompiled_charsmap);

  it('keeps the zero width joiner that NFKC-plus-a-space-list turns into a space', () => {
    expect(charsmap.normalize('👩\u200d💻 x\u200dy')).toBe('👩\u200d💻 x\u200dy');
    // nmt_nfkc does map the non-joiner and the zero width space to a space.
    expect(charsmap.normalize('می\u200cخواهم x\u200by')).toBe('می خواهم x y');
  });

  it('applies the compatibility mappings, longest match first', () => {
    expect(charsmap.normalize('ｶﾀｶﾅ ＡＢＣ１２３')).toBe('カタカナ ABC123');
    expect(charsmap.normalize('ﬁ ① ½ Ⅻ')).toBe('fi 1 1⁄2 XII');
    expect(charsmap.normalize('plain ascii')).toBe('plain ascii');
  });

  it('refuses a blob whose header does not fit it', () => {
    expect(() => new PrecompiledCharsmap(new Uint8Array([1, 2]))).toThrow(RangeError);
    expect(() => new PrecompiledCharsmap(new Uint8Array([0xff, 0, 0, 0, 0]))).toThrow(/declares a 255-byte trie/);
  });
});
