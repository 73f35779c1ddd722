/**
 * Byte-pair encoding of one pre-token, as CLIP's `bpe()` does it: the last symbol carries the
 * end-of-word suffix, then the lowest-ranked adjacent pair is merged everywhere (left to
 * right, without overlaps) until no ranked pair is left.
 */

import { LruMap } from '../../common/lru.ts';

export interface BpeVocabulary {
  /** Symbol → id, including the symbols with the end-of-word suffix. */
  readonly vocab: ReadonlyMap<string, number>;
  /** `"left right"` → merge priority, lowest first. */
  readonly mergeRanks: ReadonlyMap<string, number>;
  readonly endOfWordSuffix: string;
  /** Id for a symbol missing from the vocabulary; undefined means such a symbol is an error. */
  readonly unknownId: number | undefined;
}

export class BytePairEncoder {
  readonly #vocabulary: BpeVocabulary;
  readonly #cache: LruMap<string, readonly number[]>;

  constructor(vocabulary: BpeVocabulary, cacheSize = 10_000) {
    this.#vocabulary = vocabulary;
    this.#cache = new LruMap(cacheSize);
  }

  /** Ids for one pre-token already spelled in byte-level symbols. */
  encodeWord(byteSymbols: string): readonly number[] {
    const cached = this.#cache.get(byteSymbols);
    if (cached !== undefined) return cached;
    const ids = this.mergeWord(byteSymbols).map((symbol) => this.#idOf(symbol));
    this.#cache.set(byteSymbols, ids);
    return ids;
  }

  /** The merged symbols of one pre-token. */
  mergeWord(byteSymbols: string): string[] {
    const { mergeRanks, endOfWordSuffix } = this.#vocabulary;
    const word = Array.from(byteSymbols);
    if (word.length === 0) return word;
    word[word.length - 1] += endOfWordSuffix;

    while (word.length > 1) {
      let bestRank = Infinity;
      let bestLeft = '';
      let bestRight = '';
      for (let i = 0; i < word.length - 1; i++) {
        const rank = mergeRanks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          bestLeft = word[i]!;
          bestRight = word[i + 1]!;
        }
      }
      if (bestRank === Infinity) break;
      mergePairInPlace(word, bestLeft, bestRight);
    }
    return word;
  }

  #idOf(symbol: string): number {
    const id = this.#vocabulary.vocab.get(symbol);
    if (id !== undefined) return id;
    if (this.#vocabulary.unknownId !== undefined) return this.#vocabulary.unknownId;
    throw new Error(`BPE produced the symbol ${JSON.stringify(symbol)}, which is not in the vocabulary and there is no unknown token`);
  }
}

function mergePairInPlace(word: string[], left: string, right: string): void {
  let write = 0;
  for (let read = 0; read < word.length; read++) {
    if (read < word.length - 1 && word[read] === left && word[read + 1] === right) {
      word[write++] = left + right;
      read++;
    } else {
      word[write++] = word[read]!;
    }
  }
  word.length = write;
}
