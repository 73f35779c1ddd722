/**
 * `ftfy.chardata.UTF8_DETECTOR_RE`: runs of characters that look like UTF-8 bytes decoded in
 * one of the single-byte encodings (a lead-byte character followed by the right number of
 * continuation-byte characters). Used to fix mojibake embedded in otherwise fine text.
 */

const FIRST_OF_2 =
  '\u0102\u00c2\u00c4\u0100\u00c5\u00c3\u00c6\u0106\u010c\u00c7\u010e\u0110\u00c9\u011a\u00ca\u00cb\u0116\u00c8' +
  '\u0112\u0118\u00d0\u011e\u0122\u00cd\u00ce\u00cf\u0130\u00cc\u012a\u0136\u0139\u013b\u0141\u0143\u0147\u0145' +
  '\u00d1\u00d3\u00d4\u00d6\u0150\u00d2\u014c\u00d8\u00d5\u0158\u015a\u0160\u015e\u0162\u00de\u00da\u00db\u00dc' +
  '\u0170\u00d9\u016a\u0172\u016e\u00dd\u0179\u017d\u017b\u00df\u00d7\u0392-\u03a1\u03a3-\u03af\u0412-\u042f';

const FIRST_OF_3 =
  '\u00e1\u0103\u00e2\u00e4\u00e0\u0101\u0105\u00e5\u00e3\u00e6\u0107\u010d\u00e7\u010f\u00e9\u011b\u00ea\u00eb' +
  '\u0117\u00e8\u0113\u0119\u0123\u00ed\u00ee\u00ef\u00ec\u012b\u012f\u0137\u013a\u013c\u0155\u017a\u03b0-\u03bf' +
  '\u0430-\u043f';

const FIRST_OF_4 = '\u0111\u00f0\u011f\u00f3\u0161\u03c0\u03c3\u0440\u0443';

/** Characters that stand for a continuation byte in at least one of the encodings. */
const CONTINUATION_STRICT =
  '\u0080-\u00bf\u0104\u00c6\u013d\u0141\u00d8\u0156\u015a\u0160\u015e\u0164\u0178\u0179\u017d\u017b\u0152\u0105' +
  '\u00e6\u0192\u013e\u0142\u00f8\u0157\u015b\u0161\u015f\u0165\u017a\u017e\u017c\u0153\u02c6\u02c7\u02d8\u02db' +
  '\u02dc\u02dd\u0384-\u0386\u0388-\u038a\u038c\u038e\u038f\u0401-\u040c\u040e\u040f\u0451-\u045c\u045e\u045f' +
  '\u0490\u0491\u2020\u2021\u2030\u2039\u203a\u20ac\u2116\u2122';

/** The strict set plus a space (an altered U+00A0) and punctuation that 0x80–0x9F often becomes. */
const CONTINUATION = `${CONTINUATION_STRICT} \u2013\u2014\u2015\u2018\u2019\u201a\u201c\u201d\u201e\u2022\u2026`;

const DETECTOR_SOURCE =
  `(?<![${CONTINUATION_STRICT}])` +
  `(?:[${FIRST_OF_2}][${CONTINUATION}]` +
  `|[${FIRST_OF_3}][${CONTINUATION}]{2}` +
  `|[${FIRST_OF_4}][${CONTINUATION}]{3})+`;

export const UTF8_DETECTOR = new RegExp(DETECTOR_SOURCE, 'u');
export const UTF8_DETECTOR_ALL = new RegExp(DETECTOR_SOURCE, 'gu');
