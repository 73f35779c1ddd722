/**
 * SentencePiece's character normalisation from its precompiled charsmap (the `Precompiled`
 * normaliser of a tokenizer.json, e.g. `nmt_nfkc` in SigLIP's and XLM-R's files), as SentencePiece
 * applies it: at each position the longest byte sequence the map knows is replaced by its
 * normalised string, otherwise one character is kept.
 *
 * @huggingface/tokenizers does not read the map: it approximates it with NFKC and a list of spaces
 * and control characters, which differs where the two disagree, e.g. on ZERO WIDTH JOINER (U+200D:
 * kept by nmt_nfkc, a space there), in emoji sequences and Indic scripts.
 *
 * The blob is `uint32le trieBytes`, a darts-clone double-array trie of `trieBytes / 4` uint32le
 * units keyed by UTF-8 bytes, then the NUL-terminated normalised strings the trie's values point to.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class PrecompiledCharsmap {
  readonly #units: Uint32Array;
  readonly #normalized: Uint8Array;

  constructor(blob: Uint8Array) {
    if (blob.length < 4) throw new RangeError('precompiled charsmap is shorter than its 4-byte header');
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes % 4 !== 0 || 4 + trieBytes > blob.length) {
      throw new RangeError(`precompiled charsmap declares a ${trieBytes}-byte trie in a ${blob.length}-byte blob`);
    }
    this.#units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.#units.length; i++) this.#units[i] = view.getUint32(4 + i * 4, true);
    this.#normalized = blob.subarray(4 + trieBytes);
  }

  static fromBase64(base64: string): PrecompiledCharsmap {
    return new PrecompiledCharsmap(Uint8Array.from(Buffer.from(base64, 'base64')));
  }

  normalize(text: string): string {
    const input = encoder.encode(text);
    const output: Uint8Array[] = [];
    let start = 0; // first byte of the current run copied unchanged
    let position = 0;
    while (position < input.length) {
      const match = this.#longestMatch(input, position);
      if (match === null) {
        position += utf8Length(input[position]!);
        continue;
      }
      if (position > start) output.push(input.subarray(start, position));
      output.push(this.#normalizedAt(match.value));
      position += match.length;
      start = position;
    }
    if (start === 0) return text;
    if (start < input.length) output.push(input.subarray(start));
    return decoder.decode(Buffer.concat(output));
  }

  /** darts-clone's commonPrefixSearch, keeping the longest hit. */
  #longestMatch(key: Uint8Array, from: number): { length: number; value: number } | null {
    const units = this.#units;
    if (units.length === 0) return null;
    let best: { length: number; value: number } | null = null;
    let nodePos = offset(units[0]!);
    for (let i = from; i < key.length; i++) {
      const byte = key[i]!;
      nodePos ^= byte;
      const unit = units[nodePos];
      if (unit === undefined || label(unit) !== byte) break;
      nodePos ^= offset(unit);
      if (hasLeaf(unit)) best = { length: i - from + 1, value: value(units[nodePos]!) };
    }
    return best;
  }

  #normalizedAt(start: number): Uint8Array {
    const end = this.#normalized.indexOf(0, start);
    return this.#normalized.subarray(start, end === -1 ? this.#normalized.length : end);
  }
}

const hasLeaf = (unit: number): boolean => ((unit >>> 8) & 1) === 1;
const value = (unit: number): number => unit & 0x7fffffff;
const label = (unit: number): number => (unit & 0x800000ff) >>> 0;
const offset = (unit: number): number => (unit >>> 10) << ((unit & (1 << 9)) >>> 6);

/** Bytes of the UTF-8 sequence a lead byte starts (TextEncoder output is always well-formed). */
function utf8Length(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead < 0xe0) return 2;
  if (lead < 0xf0) return 3;
  return 4;
}
