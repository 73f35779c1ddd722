/**
 * GPT-2 / CLIP byte-level symbols: every UTF-8 byte is written as one printable character
 * (`bytes_to_unicode`), so BPE runs on strings whose vocabulary covers all 256 bytes.
 */

function buildByteToSymbol(): readonly string[] {
  const printable = (byte: number) =>
    (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
  const symbols: string[] = [];
  let next = 0;
  for (let byte = 0; byte < 256; byte++) {
    symbols.push(String.fromCharCode(printable(byte) ? byte : 256 + next++));
  }
  return symbols;
}

export const BYTE_TO_SYMBOL: readonly string[] = buildByteToSymbol();

const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;
const utf8 = new TextEncoder();

/** The byte-level spelling of `text`: one symbol per UTF-8 byte. */
export function toByteSymbols(text: string): string {
  // Printable ASCII bytes are their own symbols, the common case for English queries.
  if (PRINTABLE_ASCII.test(text)) return text;
  let out = '';
  for (const byte of utf8.encode(text)) out += BYTE_TO_SYMBOL[byte]!;
  return out;
}
