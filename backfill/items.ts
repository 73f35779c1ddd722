// An item on its way through the pipeline.

export type Metadata = Record<string, unknown>;

/** Read (or, for a descriptor target, only located), identified and described; not yet embedded. */
export interface PreparedItem {
  /** The checkpoint's fingerprint of where the item came from (see checkpoint.ts). */
  key: string;
  id: string;
  /** The id is a hash of the content: the same id means the same bytes. */
  contentId: boolean;
  /** Where it came from, for messages and the errors file. */
  source: string;
  metadata: Metadata;
  /** `url`: an image left for the other side of a descriptor target (the queue's consumer) to fetch. */
  input: { kind: 'image'; bytes: Uint8Array } | { kind: 'text'; text: string } | { kind: 'url'; url: string };
  /** Further entries with the same id, settled with this one (a duplicate file, a link to one). */
  duplicates: { key: string; source: string }[];
  /** --thumbnails: the image's WebP thumbnail, sent with the item. */
  thumbnail?: Uint8Array;
}

/** What a target writes: for a vector target, with the embedding. */
export interface TargetRecord {
  id: string;
  metadata: Metadata;
  values?: Float32Array;
  /** For a descriptor target: the image's URL. */
  url?: string;
  /** --thumbnails: the image's WebP thumbnail. */
  thumbnail?: Uint8Array;
  source: string;
}

/** What the item adds to an embedder request. */
export function inputBytes({ input }: PreparedItem): number {
  switch (input.kind) {
    case 'image':
      return input.bytes.byteLength;
    case 'text':
      return Buffer.byteLength(input.text, 'utf8');
    case 'url':
      return 0;
  }
}
