/**
 * ftfy's "utf-8-variants" decoder: strict UTF-8 that also accepts two things other software
 * writes, Java's `C0 80` for U+0000 and CESU-8 (an astral character written as two 3-byte
 * surrogate halves). Anything else that is not valid UTF-8 fails, as in Python.
 */

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const JAVA_NULL_OR_CESU8_PAIR = /\xc0\x80|\xed[\xa0-\xaf][\x80-\xbf]\xed[\xb0-\xbf][\x80-\xbf]/g;

/** Decodes bytes held in a binary string (one char per byte). Returns null where Python raises. */
export function decodeUtf8Variants(bytes: string): string | null {
  try {
    let out = '';
    let last = 0;
    for (const match of bytes.matchAll(JAVA_NULL_OR_CESU8_PAIR)) {
      out += decodeStrict(bytes.slice(last, match.index));
      out += match[0].length === 2 ? '\u0000' : decodeCesu8Pair(match[0]);
      last = match.index + match[0].length;
    }
    return out + decodeStrict(bytes.slice(last));
  } catch {
    return null;
  }
}

function decodeStrict(bytes: string): string {
  return bytes.length === 0 ? '' : strictUtf8.decode(Buffer.from(bytes, 'latin1'));
}

function decodeCesu8Pair(six: string): string {
  const b = (i: number) => six.charCodeAt(i);
  const codePoint =
    ((b(1) & 0x0f) << 16) + ((b(2) & 0x3f) << 10) + ((b(4) & 0x0f) << 6) + (b(5) & 0x3f) + 0x10000;
  return String.fromCodePoint(codePoint);
}
