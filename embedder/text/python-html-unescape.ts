/**
 * Python's `html.unescape`, which CLIP's text cleaning applies (twice). Named references use
 * the HTML5 table, including the legacy names that need no semicolon (`&amp`, `&copy`…) and
 * their longest-prefix rule (`&notit;` → `¬it;`). Numeric references follow Python's table,
 * which differs from a browser's: control and noncharacter code points are dropped.
 */

import { HTML5_ENTITIES } from './html5-named-references.ts';

const CHARACTER_REFERENCE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

/** Python's `_invalid_charrefs`: 0x80–0x9F are read as Windows-1252. */
const INVALID_CHARREFS: ReadonlyMap<number, string> = new Map([
  [0x00, '\ufffd'],
  [0x0d, '\r'],
  [0x80, '\u20ac'],
  [0x81, '\x81'],
  [0x82, '\u201a'],
  [0x83, '\u0192'],
  [0x84, '\u201e'],
  [0x85, '\u2026'],
  [0x86, '\u2020'],
  [0x87, '\u2021'],
  [0x88, '\u02c6'],
  [0x89, '\u2030'],
  [0x8a, '\u0160'],
  [0x8b, '\u2039'],
  [0x8c, '\u0152'],
  [0x8d, '\x8d'],
  [0x8e, '\u017d'],
  [0x8f, '\x8f'],
  [0x90, '\x90'],
  [0x91, '\u2018'],
  [0x92, '\u2019'],
  [0x93, '\u201c'],
  [0x94, '\u201d'],
  [0x95, '\u2022'],
  [0x96, '\u2013'],
  [0x97, '\u2014'],
  [0x98, '\u02dc'],
  [0x99, '\u2122'],
  [0x9a, '\u0161'],
  [0x9b, '\u203a'],
  [0x9c, '\u0153'],
  [0x9d, '\x9d'],
  [0x9e, '\u017e'],
  [0x9f, '\u0178'],
]);

/** Python's `_invalid_codepoints`: references to these decode to nothing. */
function isInvalidCodePoint(code: number): boolean {
  return (
    (code >= 0x01 && code <= 0x08) ||
    code === 0x0b ||
    (code >= 0x0e && code <= 0x1f) ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0xfdd0 && code <= 0xfdef) ||
    (code & 0xfffe) === 0xfffe
  );
}

function decodeNumericReference(reference: string): string {
  const isHex = reference[1] === 'x' || reference[1] === 'X';
  const digits = reference.slice(isHex ? 2 : 1).replace(/;$/, '');
  const code = Number.parseInt(digits, isHex ? 16 : 10);
  const special = INVALID_CHARREFS.get(code);
  if (special !== undefined) return special;
  if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return '\ufffd';
  if (isInvalidCodePoint(code)) return '';
  return String.fromCodePoint(code);
}

/** The whole name, else its longest prefix that is a (legacy) entity, followed by the rest. */
function decodeNamedReference(name: string): string {
  const whole = HTML5_ENTITIES.get(name);
  if (whole !== undefined) return whole;
  for (let end = name.length - 1; end > 1; end--) {
    const value = HTML5_ENTITIES.get(name.slice(0, end));
    if (value !== undefined) return value + name.slice(end);
  }
  return `&${name}`;
}

export function pythonHtmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARACTER_REFERENCE, (_match, reference: string) =>
    reference.startsWith('#') ? decodeNumericReference(reference) : decodeNamedReference(reference),
  );
}
