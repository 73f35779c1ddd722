/**
 * A port of `ftfy.fix_text` (ftfy 6.3.1, Apache-2.0, by Robyn Speer) with its default
 * settings, which is the first step of CLIP's text cleaning. The model was trained on text
 * cleaned this way, so token ids only match the reference if this matches ftfy.
 */

import { fixEncoding } from './fix-encoding.ts';
import {
  fixC1Controls,
  fixCharacterWidth,
  fixLatinLigatures,
  fixLineBreaks,
  fixSurrogates,
  removeControlChars,
  removeTerminalEscapes,
  uncurlQuotes,
  unescapeHtmlEntities,
} from './fixes.ts';

/** ftfy's `max_decode_length`, in code points. */
const MAX_SEGMENT_LENGTH = 1_000_000;

export function fixText(text: string): string {
  // unescape_html="auto": once a line contains '<' the text may be HTML, whose entities
  // are left alone, for that line and every later one.
  let unescapeHtml = true;
  let out = '';
  let position = 0;
  while (position < text.length) {
    let lineEnd = text.indexOf('\n', position) + 1;
    if (lineEnd === 0) lineEnd = text.length;
    lineEnd = Math.min(lineEnd, advanceCodePoints(text, position, MAX_SEGMENT_LENGTH));
    const segment = text.slice(position, lineEnd);
    if (unescapeHtml && segment.includes('<')) unescapeHtml = false;
    out += fixSegment(segment, unescapeHtml);
    position = lineEnd;
  }
  return out;
}

/** `fix_and_explain`: apply every fixer, in ftfy's order, until nothing changes. */
function fixSegment(text: string, unescapeHtml: boolean): string {
  for (;;) {
    const original = text;
    if (unescapeHtml) text = unescapeHtmlEntities(text);
    text = fixEncoding(text);
    text = fixC1Controls(text);
    text = fixLatinLigatures(text);
    text = fixCharacterWidth(text);
    text = uncurlQuotes(text);
    text = fixLineBreaks(text);
    text = fixSurrogates(text);
    text = removeTerminalEscapes(text);
    text = removeControlChars(text);
    text = text.normalize('NFC');
    if (text === original) return text;
  }
}

function advanceCodePoints(text: string, from: number, count: number): number {
  if (text.length - from <= count) return text.length;
  let index = from;
  for (let seen = 0; seen < count && index < text.length; seen++) {
    index += text.codePointAt(index)! > 0xffff ? 2 : 1;
  }
  return index;
}
