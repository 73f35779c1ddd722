// An item on its way through the pipeline.

export type Metadata = Record<string, unknown>;

/** Read, identified and described; not yet embedded. */
export interface PreparedItem {
  /** The checkpoint's fingerprint of where the item came from (see checkpoint.ts). */
  key: string;
  id: string;
  /** The id is a hash of the content: the same id means the same bytes. */
  contentId: boolean;
  /** Where it came from, for messages and the errors file. */
  source: string;
  metadata: Metadata;
  input: { kind: 'image'; bytes: Uint8Array } | { kind: 'text'; text: string };
  /** Further entries with the same id, settled with this one (a duplicate file, a link to one). */
  duplicates: { key: string; source: string }[];
}

/** What a target writes: for a vector target, with the embedding. */
export interface TargetRecord {
  id: string;
  metadata: Metadata;
  values?: Float32Array;
  source: string;
}

export const inputBytes = (item: PreparedItem) =>
  item.input.kind === 'image' ? item.input.bytes.byteLength : Buffer.byteLength(item.input.text, 'utf8');
