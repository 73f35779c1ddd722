/**
 * The individual fixers of `ftfy.fixes` that `fix_text` applies with its default settings.
 * Byte-level fixers take and return binary strings (one char per byte).
 */

import { HTML5_ENTITIES } from '../html5-named-references.ts';
import { pythonHtmlUnescape } from '../python-html-unescape.ts';
import { SLOPPY_WINDOWS_1252 } from './charmaps.ts';

const HTML_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;

/**
 * ftfy's own HTML unescaping: only complete `&name;` / `&#num;` entities, plus all-caps
 * spellings of lowercase entities (`&EACUTE;` → É) that browsers would not decode.
 */
export function unescapeHtmlEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(HTML_ENTITY, (entity) => {
    if (entity.startsWith('&#')) {
      const unescaped = pythonHtmlUnescape(entity);
      return unescaped.includes(';') ? entity : unescaped;
    }
    const name = entity.slice(1);
    return HTML5_ENTITIES.get(name) ?? upperCaseVariant(name) ?? entity;
  });
}

/** `&NAME;` for an all-lowercase entity `&name;`, unless Python's unescape would decode it. */
function upperCaseVariant(name: string): string | undefined {
  const lowerName = name.toLowerCase();
  if (lowerName === name || lowerName.toUpperCase() !== name) return undefined;
  const lowerValue = HTML5_ENTITIES.get(lowerName);
  if (lowerValue === undefined) return undefined;
  if (pythonHtmlUnescape(`&${name}`) !== `&${name}`) return undefined;
  return lowerValue.toUpperCase();
}

const ANSI_ESCAPE = /\x1b\[[\p{Nd};]*[a-zA-Z]/gu;

export function removeTerminalEscapes(text: string): string {
  return text.includes('\x1b') ? text.replace(ANSI_ESCAPE, '') : text;
}

const SINGLE_QUOTES = /[\u02bc\u2018-\u201b]/g;
const DOUBLE_QUOTES = /[\u201c-\u201f]/g;

export function uncurlQuotes(text: string): string {
  return text.replace(DOUBLE_QUOTES, '"').replace(SINGLE_QUOTES, "'");
}

const LIGATURES: Readonly<Record<string, string>> = {
  '\u0132': 'IJ',
  '\u0133': 'ij',
  '\u0149': '\u02bcn',
  '\u01f1': 'DZ',
  '\u01f2': 'Dz',
  '\u01f3': 'dz',
  '\u01c4': 'D\u017d',
  '\u01c5': 'D\u017e',
  '\u01c6': 'd\u017e',
  '\u01c7': 'LJ',
  '\u01c8': 'Lj',
  '\u01c9': 'lj',
  '\u01ca': 'NJ',
  '\u01cb': 'Nj',
  '\u01cc': 'nj',
  '\ufb00': 'ff',
  '\ufb01': 'fi',
  '\ufb02': 'fl',
  '\ufb03': 'ffi',
  '\ufb04': 'ffl',
  '\ufb05': '\u017ft',
  '\ufb06': 'st',
};
const LIGATURE = /[\u0132\u0133\u0149\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06]/g;

export function fixLatinLigatures(text: string): string {
  return text.replace(LIGATURE, (char) => LIGATURES[char] ?? char);
}

/** U+3000 and the halfwidth/fullwidth forms block, mapped to their NFKC equivalents. */
const WIDTH_MAP: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>([['\u3000', ' ']]);
  for (let code = 0xff01; code < 0xfff0; code++) {
    const char = String.fromCharCode(code);
    const alternate = char.normalize('NFKC');
    if (alternate !== char) map.set(char, alternate);
  }
  return map;
})();
const WIDE_OR_NARROW = /[\u3000\uff01-\uffef]/g;

export function fixCharacterWidth(text: string): string {
  return text.replace(WIDE_OR_NARROW, (char) => WIDTH_MAP.get(char) ?? char);
}

export function fixLineBreaks(text: string): string {
  return text.replace(/\r\n?|[\u2028\u2029\u0085]/g, '\n');
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Pairs are already combined in a JS string; lone halves become U+FFFD, as in ftfy. */
export function fixSurrogates(text: string): string {
  return text.replace(LONE_SURROGATE, '\ufffd');
}

const CONTROL_CHARS = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;

export function removeControlChars(text: string): string {
  return text.replace(CONTROL_CHARS, '');
}

export const C1_CONTROL = /[\x80-\x9f]/;
const C1_CONTROLS = /[\x80-\x9f]/g;

/** C1 control characters are almost always Windows-1252 bytes decoded as Latin-1. */
export function fixC1Controls(text: string): string {
  return text.replace(C1_CONTROLS, (char) => SLOPPY_WINDOWS_1252.decodeTable[char.charCodeAt(0)]!);
}

/** Bytes that look like UTF-8 whose 0xA0 continuation byte was turned into a space (0x20). */
export const ALTERED_UTF8 =
  /[\xc2\xc3\xc5\xce\xd0\xd9] |[\xe2\xe3] [\x80-\x84\x86-\x9f\xa1-\xbf]|[\xe0-\xe3][\x80-\x84\x86-\x9f\xa1-\xbf] |\xf0 [\x80-\xbf][\x80-\xbf]|\xf0[\x80-\xbf] [\x80-\xbf]|\xf0[\x80-\xbf][\x80-\xbf] /;
const ALTERED_UTF8_ALL = new RegExp(ALTERED_UTF8.source, 'g');
const A_GRAVE_WORD = /\xc3 (?! |quele|quela|quilo|s )/g;

export function restoreByteA0(bytes: string): string {
  return bytes
    .replace(A_GRAVE_WORD, '\xc3\xa0 ')
    .replace(ALTERED_UTF8_ALL, (match) => match.replaceAll(' ', '\xa0'));
}

/** Byte sequences where a lossy decode (to U+FFFD, `?` or 0x1A) destroyed part of a UTF-8 character. */
const LOSSY_UTF8 = new RegExp(
  [
    '[\\xc2-\\xdf][\\x1a]',
    '[\\xc2-\\xc3][?]',
    '\\xed[\\xa0-\\xaf][\\x1a?]\\xed[\\xb0-\\xbf][\\x1a?\\x80-\\xbf]',
    '\\xed[\\xa0-\\xaf][\\x1a?\\x80-\\xbf]\\xed[\\xb0-\\xbf][\\x1a?]',
    '[\\xe0-\\xef][\\x1a?][\\x1a\\x80-\\xbf]',
    '[\\xe0-\\xef][\\x1a\\x80-\\xbf][\\x1a?]',
    '[\\xf0-\\xf4][\\x1a?][\\x1a\\x80-\\xbf][\\x1a\\x80-\\xbf]',
    '[\\xf0-\\xf4][\\x1a\\x80-\\xbf][\\x1a?][\\x1a\\x80-\\xbf]',
    '[\\xf0-\\xf4][\\x1a\\x80-\\xbf][\\x1a\\x80-\\xbf][\\x1a?]',
    '\\x1a',
  ].join('|'),
  'g',
);
const UTF8_REPLACEMENT_CHARACTER = '\xef\xbf\xbd';

export function replaceLossySequences(bytes: string): string {
  return bytes.replace(LOSSY_UTF8, UTF8_REPLACEMENT_CHARACTER);
}
