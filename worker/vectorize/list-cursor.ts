// The cursor of GET /v1/items: the index's own list-vectors cursor, with the
// index and namespace it pages through, so that a cursor is refused with a
// clear 400 when it is not one of ours, when it comes from another listing,
// or when a promotion has switched the index since. Admin only, so it is
// encoded, not signed.
import { z } from 'zod';
import { badRequest } from '../errors.ts';

const cursorSchema = z.strictObject({ v: z.literal(1), index: z.string(), namespace: z.string().nullable(), after: z.string().min(1) });
type ListCursor = z.infer<typeof cursorSchema>;

const toBase64Url = (text: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(text)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

function fromBase64Url(text: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

export function encodeListCursor(index: string, namespace: string | undefined, after: string): string {
  return toBase64Url(JSON.stringify({ v: 1, index, namespace: namespace ?? null, after } satisfies ListCursor));
}

/** The index's own cursor inside `cursor`, once it is shown to be a cursor of this listing of `index`. */
export function decodeListCursor(cursor: string, index: string, namespace: string | undefined): string {
  const text = fromBase64Url(cursor);
  let parsed: ListCursor | undefined;
  try {
    parsed = text === undefined ? undefined : cursorSchema.parse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (!parsed) throw badRequest('invalid_cursor', 'cursor is not one this route made: pass the nextCursor of the previous page as it came');
  if (parsed.index !== index)
    throw badRequest('invalid_cursor', `cursor pages through index ${parsed.index}, but searches now use ${index} (promoted since): start again without a cursor`);
  if (parsed.namespace !== (namespace ?? null))
    throw badRequest(
      'invalid_cursor',
      `cursor pages through ${parsed.namespace === null ? 'every namespace' : `namespace ${JSON.stringify(parsed.namespace)}`}: give the same namespace as the first page`,
    );
  return parsed.after;
}
