/**
 * CLIP's text cleaning, exactly as openai/CLIP `simple_tokenizer.py` does it before BPE:
 * `whitespace_clean(basic_clean(text)).lower()`.
 */

import { fixText } from './ftfy/fix-text.ts';
import { pythonHtmlUnescape } from './python-html-unescape.ts';

// Python's `str.strip()` removes `str.isspace()` characters: Unicode White_Space plus U+001C–U+001F.
const PYTHON_STRIP = /^[\p{White_Space}\x1c-\x1f]+|[\p{White_Space}\x1c-\x1f]+$/gu;
// The `regex` module's `\s` is exactly Unicode White_Space (JS's `\s` adds U+FEFF, lacks U+0085).
const WHITESPACE_RUN = /\p{White_Space}+/gu;

export function cleanClipText(text: string): string {
  let cleaned = fixText(text);
  cleaned = pythonHtmlUnescape(pythonHtmlUnescape(cleaned));
  cleaned = cleaned.replace(PYTHON_STRIP, '');
  cleaned = cleaned.replace(WHITESPACE_RUN, ' ').replace(PYTHON_STRIP, '');
  // JS lower-casing is full Unicode lower-casing like Python's, final sigma (ς) included.
  return cleaned.toLowerCase();
}
