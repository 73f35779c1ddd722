// What an item id may be (common/ids.ts): Vectorize's 64 bytes, and only
// text that can be addressed in a URL path and shown in a log line.
import { describe, expect, it } from 'vitest';
import { idProblem, idSchema, MAX_ID_BYTES } from '../../common/ids.ts';

describe('item ids', () => {
  it.each([
    ['a plain id', 'photo-123'],
    ['a relative path (backfill --id-from path)', 'photos/2020/beach.jpg'],
    ['a URL', 'https://example.com/a.jpg?size=large#top'],
    ['dots that are not a whole path segment', '...'],
    ['spaces, quotes and reserved URL characters', ` "it's" 100% <a&b>=c; d+e `],
    ['non-Latin text and emoji (with a zero-width joiner)', 'Привет-東京-👩‍👩‍👧'],
    ['exactly 64 bytes of multi-byte text', 'é'.repeat(32)],
  ])('accepts %s', (_, id) => {
    expect(idProblem(id)).toBeUndefined();
    expect(idSchema.safeParse(id).success).toBe(true);
  });

  it.each([
    ['an empty id', '', /must not be empty/],
    ['65 bytes', 'x'.repeat(MAX_ID_BYTES + 1), /at most 64 bytes/],
    ['64 characters that are 65 bytes', `${'x'.repeat(63)}é`, /at most 64 bytes of UTF-8 \(got 65\)/],
    ['a lone surrogate', 'a\ud800b', /lone surrogate/],
    ['a NUL', 'a\u0000b', /control characters/],
    ['a newline', 'line\nbreak', /control characters/],
    ['an escape sequence', '\u001b[31mred', /control characters/],
    ['a C1 control', 'a\u0085b', /control characters/],
    ['a line separator', 'a\u2028b', /control characters/],
    ['a right-to-left override', 'invoice\u202egpj.exe', /bidirectional/],
    ['"."', '.', /must not be "\." or "\.\."/],
    ['".."', '..', /must not be "\." or "\.\."/],
  ])('refuses %s', (_, id, message) => {
    expect(idProblem(id)).toMatch(message);
    const parsed = idSchema.safeParse(id);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues).toHaveLength(1);
    expect(parsed.error!.issues[0]!.message).toMatch(message);
  });

  it('survives a round trip through a URL path segment, as every accepted id must', () => {
    for (const id of ['photos/2020/beach.jpg', '../etc/passwd', ` "it's" 100% <a&b>=c; d+e `, '%2F%41', 'Привет-東京-👩‍👩‍👧']) {
      const url = new URL(`http://worker/v1/items/${encodeURIComponent(id)}`);
      expect(url.pathname.split('/').length).toBe(4);
      expect(decodeURIComponent(url.pathname.split('/')[3]!)).toBe(id);
    }
  });
});
