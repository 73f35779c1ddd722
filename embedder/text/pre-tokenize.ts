/**
 * CLIP's pre-tokenizer regex, as `simple_tokenizer.py` compiles it with the `regex` module:
 *   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
 * with IGNORECASE. It runs on lower-cased text, so the only case folding left that matters is
 * U+017F (ſ) matching `s`. IGNORECASE also makes U+0345 (which folds to the letter ι) match
 * neither `[\p{L}]` nor the negated class, so Python drops it; JS's `i` flag would differ on
 * both counts, hence the explicit classes. `\s` there is Unicode White_Space. Every digit is
 * its own piece.
 */

function escapeForRegex(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A literal as the case-insensitive `regex` module matches it in lower-cased text. */
function foldedLiteral(literal: string): string {
  return escapeForRegex(literal.toLowerCase()).replace(/s/g, '[s\\u017f]');
}

/** Builds the splitter for a vocabulary whose special tokens are written `start` and `end`. */
export function createPreTokenizer(start: string, end: string): (cleaned: string) => IterableIterator<string> {
  const pattern = new RegExp(
    `${foldedLiteral(start)}|${foldedLiteral(end)}|'[s\\u017f]|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^\\p{White_Space}\\p{L}\\p{N}\\u0345]+`,
    'gu',
  );
  return function* preTokenize(cleaned: string) {
    for (const match of cleaned.matchAll(pattern)) yield match[0];
  };
}
