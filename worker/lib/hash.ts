// SHA-256 and canonical forms, for cache keys and ETags.

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');

export async function sha256Hex(data: string | ArrayBufferView): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  return hex(await crypto.subtle.digest('SHA-256', bytes));
}

/** JSON with object keys sorted at every level, so equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Trimmed, whitespace-collapsed, lower-cased: the form text queries are embedded and cached in. */
export const canonicalText = (text: string) => text.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
