// The opaque `cursor` of a search page: the offset of the next page and the
// query it belongs to, signed with HMAC-SHA-256, so a client can neither move
// it nor use it with another query. It holds no state: any isolate with the
// same secret reads it, and a page that carries one is as cacheable as any.
import type { Config } from '../config.ts';
import { badRequest } from '../errors.ts';

const VERSION = 1;
/** version (1) + offset (2) + query hash prefix (16), then the MAC (16). */
const SIGNED_BYTES = 19;
const MAC_BYTES = 16;
const QUERY_HASH_BYTES = 16;

const toBase64Url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

const hexBytes = (hex: string, count: number) => Uint8Array.from({ length: count }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));

/** Compares in time independent of where the two differ. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

let isolateSecret: string | undefined;

/**
 * The key cursors are signed with: CURSOR_SECRET; else one derived from
 * ADMIN_TOKEN; else (neither set) a random one per isolate, with which a
 * cursor works only in the isolate that made it.
 */
export function cursorSecret(config: Pick<Config, 'CURSOR_SECRET' | 'ADMIN_TOKEN'>): string {
  if (config.CURSOR_SECRET) return config.CURSOR_SECRET;
  if (config.ADMIN_TOKEN) return `crossmodal page cursor:${config.ADMIN_TOKEN}`;
  if (isolateSecret === undefined) {
    isolateSecret = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
    console.warn('neither CURSOR_SECRET nor ADMIN_TOKEN is set: page cursors are valid only in the isolate that made them');
  }
  return isolateSecret;
}

export class PageCursors {
  readonly #key: ReturnType<typeof crypto.subtle.importKey>;

  /** `secret`: CURSOR_SECRET, or what the settings fall back to (see worker/README.md). */
  constructor(secret: string) {
    this.#key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  }

  /** A cursor for the page of `queryHash` (hex SHA-256 of the canonical query) that starts at `offset`. */
  async sign(queryHash: string, offset: number): Promise<string> {
    const bytes = new Uint8Array(SIGNED_BYTES + MAC_BYTES);
    bytes[0] = VERSION;
    new DataView(bytes.buffer).setUint16(1, offset);
    bytes.set(hexBytes(queryHash, QUERY_HASH_BYTES), 3);
    bytes.set(await this.#mac(bytes.subarray(0, SIGNED_BYTES)), SIGNED_BYTES);
    return toBase64Url(bytes);
  }

  /** The offset a cursor stands for, once it is shown to be ours, unaltered, and made for `queryHash`; else a 400. */
  async offset(cursor: string, queryHash: string): Promise<number> {
    const bytes = fromBase64Url(cursor);
    if (!bytes || bytes.length !== SIGNED_BYTES + MAC_BYTES || bytes[0] !== VERSION)
      throw badRequest('invalid_cursor', 'cursor is not one this API made: pass the nextCursor of a response as it is');
    if (!sameBytes(await this.#mac(bytes.subarray(0, SIGNED_BYTES)), bytes.subarray(SIGNED_BYTES)))
      throw badRequest('invalid_cursor', 'cursor was altered (its signature does not match): pass the nextCursor of a response as it is');
    if (!sameBytes(bytes.subarray(3, SIGNED_BYTES), hexBytes(queryHash, QUERY_HASH_BYTES)))
      throw badRequest('invalid_cursor', 'cursor belongs to another query: send it with the same query and options as the page it came from');
    return new DataView(bytes.buffer, bytes.byteOffset).getUint16(1);
  }

  async #mac(data: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await crypto.subtle.sign('HMAC', await this.#key, data)).subarray(0, MAC_BYTES);
  }
}
