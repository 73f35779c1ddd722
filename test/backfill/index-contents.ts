// Everything an index holds, read back through the official SDK.
import Cloudflare from 'cloudflare';

export interface StoredVector {
  id: string;
  values: number[];
  metadata: Record<string, unknown>;
}

export function indexClient(baseURL: string): Cloudflare {
  return new Cloudflare({ apiToken: 'unused', baseURL, maxRetries: 0 });
}

export async function indexContents(client: Cloudflare, index: string, account_id = 'local'): Promise<Map<string, StoredVector>> {
  const api = client.vectorize.indexes;
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.listVectors(index, { account_id, count: 1000, ...(cursor ? { cursor } : {}) });
    ids.push(...(page?.vectors ?? []).map((v) => v.id!));
    cursor = page?.isTruncated ? (page.nextCursor ?? undefined) : undefined;
  } while (cursor);
  const stored = new Map<string, StoredVector>();
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = (await api.getByIDs(index, { account_id, ids: ids.slice(i, i + 1000) })) as unknown as StoredVector[];
    for (const row of rows) stored.set(row.id, { id: row.id, values: row.values, metadata: row.metadata ?? {} });
  }
  return stored;
}

export async function vectorCount(client: Cloudflare, index: string, account_id = 'local'): Promise<number> {
  return (await client.vectorize.indexes.info(index, { account_id }))?.vectorCount ?? 0;
}
