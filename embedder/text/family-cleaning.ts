/**
 * Text cleaning the new model families apply before their tokenizer.json runs.
 *
 * - `none`: the text as given.
 * - `whitespace`: whitespace runs become one space, ends stripped (Immich's `clean_text`,
 *   OpenCLIP's `whitespace_clean`).
 * - `lowercase`: lower-cased only, whitespace kept (a Hugging Face `tokenizer_config.json` with
 *   `do_lower_case`, e.g. SigLIP 2's Gemma tokenizer, whose model was trained on lower-cased text).
 * - `lower`: `whitespace`, then lower-cased (OpenCLIP's `clean="lower"`).
 * - `canonicalize`: SigLIP's: lower-cased, ASCII punctuation (Python's `string.punctuation`,
 *   `_` included) removed, then whitespace as above. It is what Hugging Face's `SiglipTokenizer`
 *   (`do_lower_case` + `canonicalize_text`) and Immich (`clean_text(canonicalize=True)`) do;
 *   OpenCLIP's own `canonicalize_text` differs only in turning `_` into a space first.
 */

export const FAMILY_CLEANINGS = ['none', 'whitespace', 'lowercase', 'lower', 'canonicalize'] as const;
export type FamilyCleaning = (typeof FAMILY_CLEANINGS)[number];

// Python's `str.split()` / `re`'s `\s` on str: Unicode White_Space plus U+001C–U+001F.
const PYTHON_WHITESPACE_RUN = /[\p{White_Space}\x1c-\x1f]+/gu;
const PYTHON_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
// SentencePiece's word marker: HF's SiglipTokenizer reads it as a space.
const SPIECE_UNDERLINE = /\u2581/g;

export function cleanFamilyText(text: string, cleaning: FamilyCleaning): string {
  switch (cleaning) {
    case 'none':
      return text;
    case 'whitespace':
      return collapseWhitespace(text);
    case 'lowercase':
      return text.toLowerCase();
    case 'lower':
      return collapseWhitespace(text).toLowerCase();
    case 'canonicalize':
      return collapseWhitespace(text.replace(SPIECE_UNDERLINE, ' ').toLowerCase().replace(PYTHON_PUNCTUATION, ''));
  }
}

function collapseWhitespace(text: string): string {
  // Not String#trim: it also strips U+FEFF, which Python does not count as whitespace.
  return text.replace(PYTHON_WHITESPACE_RUN, ' ').replace(/^ | $/g, '');
}
