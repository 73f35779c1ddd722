/**
 * CLIP's text cleaning must equal openai's `whitespace_clean(basic_clean(text)).lower()`
 * (ftfy.fix_text, html.unescape twice, strip, collapse whitespace, Python lower()).
 * Every expected value below was produced by that Python reference (ftfy 6.3.1).
 */
import { describe, expect, it } from 'vitest';
import { cleanClipText } from '../../embedder/text/index.ts';
import { fixText } from '../../embedder/text/ftfy/fix-text.ts';
import { pythonHtmlUnescape } from '../../embedder/text/python-html-unescape.ts';

describe('cleanClipText', () => {
  it.each([
    ['mojibake from UTF-8 read as Windows-1252', 'cafÃ© au lait', 'café au lait'],
    ['two layers of mojibake', 'The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows.', "the mona lisa doesn't have eyebrows."],
    ['mojibake from UTF-8 read as Windows-1251', 'Ð¿Ñ€Ð¸Ð²ÐµÑ‚', 'привет'],
    ['a no-break space turned into a space inside mojibake', 'Ã\u00a0 la carte', 'à la carte'],
    ['curly quotes', 'don\u2019t \u201cquote\u201d', 'don\'t "quote"'],
    ['full-width forms and the ideographic space', 'ＦＵＬＬ\u3000ｗｉｄｔｈ', 'full width'],
    ['Latin ligatures', '\ufb01ne \ufb02our', 'fine flour'],
    ['HTML unescaped until nothing changes', '&amp;lt;b&amp;gt;', '<b>'],
    ["ftfy's all-caps entity spellings", '&EACUTE;T\u00c9', '\u00e9t\u00e9'],
    ["html.unescape still runs where ftfy skips a line containing '<'", '<b>&amp;</b>', '<b>&</b>'],
    ['numeric references, then NFC', 'cafe\u0301 &#x65;&#x301;', 'caf\u00e9 \u00e9'],
    ['control characters, terminal escapes and the BOM removed', 'a\u0000b\u001b[1mc\ufeffd', 'abcd'],
    ['whitespace runs collapsed and stripped', '  a \t b\n\u00a0c\u3000 ', 'a b c'],
    ['Python lower(): final sigma', 'ΟΔΟΣ ΣΟΦΟΣ', 'οδος σοφος'],
    ['special tokens lower-cased like the rest', '<|ENDOFTEXT|>', '<|endoftext|>'],
  ])('%s', (_name, text, cleaned) => {
    expect(cleanClipText(text)).toBe(cleaned);
  });
});

describe('fixText (port of ftfy.fix_text)', () => {
  it('leaves correct text alone, including accented and non-Latin text', () => {
    for (const text of ['café crème brûlée', 'Straße', '日本語', 'Ελληνικά', '½ × ² °C', 'naïve — ok…']) {
      expect(fixText(text)).toBe(text);
    }
  });

  it("stops unescaping entities from the first line containing '<' onwards", () => {
    expect(fixText('a &amp; b\n<i>c &amp; d</i>\ne &amp; f')).toBe('a & b\n<i>c &amp; d</i>\ne &amp; f');
  });
});

describe('pythonHtmlUnescape (Python html.unescape)', () => {
  it.each([
    ['named entities', '&lt;&gt;&amp;&quot;&#39;', '<>&"\''],
    ['legacy names without a semicolon, longest prefix', '&ampx &copy2024 &notit;', '&x ©2024 ¬it;'],
    ['unknown names stay', '&bogus; &dcy9;', '&bogus; &dcy9;'],
    ['0x80–0x9F read as Windows-1252', '&#x80;&#150;', '€–'],
    ['NUL, surrogates and out-of-range become U+FFFD', '&#0;&#xD800;&#x110000;', '\ufffd\ufffd\ufffd'],
    ['control and noncharacter code points are dropped', 'a&#1;b&#xFFFF;c', 'abc'],
    ['astral characters', '&#128512;&#x1F600', '😀😀'],
  ])('%s', (_name, text, unescaped) => {
    expect(pythonHtmlUnescape(text)).toBe(unescaped);
  });
});
