/**
 * ftfy's `fix_encoding`: undo mojibake (UTF-8 text that was decoded with a single-byte
 * encoding), one layer per step, until the text stops changing.
 */

import { isBad } from './badness.ts';
import { CHARMAPS, canEncode, encodeToBinaryString, isAscii } from './charmaps.ts';
import {
  ALTERED_UTF8,
  C1_CONTROL,
  fixC1Controls,
  replaceLossySequences,
  restoreByteA0,
} from './fixes.ts';
import { UTF8_DETECTOR, UTF8_DETECTOR_ALL } from './utf8-detector.ts';
import { decodeUtf8Variants } from './utf8-variants.ts';

export function fixEncoding(text: string): string {
  for (;;) {
    const fixed = fixEncodingOneStep(text);
    if (fixed === text) return text;
    text = fixed;
  }
}

function fixEncodingOneStep(text: string): string {
  if (text.length === 0 || isAscii(text) || !isBad(text)) return text;

  let latin1Possible = false;
  for (const charmap of CHARMAPS) {
    if (!canEncode(text, charmap)) continue;
    if (charmap.name === 'latin-1') latin1Possible = true;
    let bytes = encodeToBinaryString(text, charmap);
    if (charmap.name !== 'macroman' && ALTERED_UTF8.test(bytes)) bytes = restoreByteA0(bytes);
    if (charmap.isSloppy) bytes = replaceLossySequences(bytes);
    const decoded = decodeUtf8Variants(bytes);
    if (decoded !== null) return decoded;
  }

  if (UTF8_DETECTOR.test(text)) {
    const fixed = decodeInconsistentUtf8(text);
    if (fixed !== text) return fixed;
  }

  // ftfy then asks whether 'windows-1252' was among the possible encodings; the list only
  // ever holds 'sloppy-windows-1252', so that test is always false and this branch runs.
  if (latin1Possible) {
    const fixed = decodeLatin1AsStrictWindows1252(text);
    if (fixed !== null && fixed !== text) return fixed;
  }

  if (C1_CONTROL.test(text)) return fixC1Controls(text);
  return text;
}

/** Fixes only the runs that look like UTF-8 mojibake, leaving the rest of the text alone. */
function decodeInconsistentUtf8(text: string): string {
  return text.replace(UTF8_DETECTOR_ALL, (run) =>
    run.length < text.length && isBad(run) ? fixEncoding(run) : run,
  );
}

/** Bytes Python's strict cp1252 codec leaves undefined. */
const UNDEFINED_IN_WINDOWS_1252 = /[\x81\x8d\x8f\x90\x9d]/;

/** `text.encode('latin-1').decode('windows-1252')` for text known to be Latin-1 encodable. */
function decodeLatin1AsStrictWindows1252(text: string): string | null {
  if (UNDEFINED_IN_WINDOWS_1252.test(text)) return null;
  return fixC1Controls(text);
}
