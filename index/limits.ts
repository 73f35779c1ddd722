// Vectorize v2 limits (shared/docs/vectorize.md §4). Values marked "local"
// are undocumented upstream and chosen here; keep them conservative so code
// that passes locally also passes against the real service.
export const LIMITS = {
  maxDimensions: 1536,
  defaultTopK: 5,
  maxTopK: 100,
  /** With returnValues:true or returnMetadata:"all". */
  maxTopKWithPayload: 50,
  /** Vectors per insert/upsert request over REST. */
  maxBatch: 5000,
  /** local: ids per get_by_ids / delete_by_ids request. */
  maxIdsPerRequest: 1000,
  maxIdBytes: 64,
  maxMetadataBytes: 10 * 1024,
  maxMetadataIndexes: 10,
  maxIndexedStringBytes: 64,
  maxNamespaceBytes: 64,
  maxNamespaces: 50_000,
  /** Compact JSON must be shorter than this. */
  maxFilterBytes: 2048,
  maxFilterKeyChars: 512,
  maxIndexNameBytes: 64,
  /** local */
  maxDescriptionBytes: 1024,
  maxListCount: 1000,
  /** local (upstream default unconfirmed) */
  defaultListCount: 100,
  maxUploadBytes: 100 * 1024 * 1024,
  /** local: JSON request bodies (a 1536-dim query is ~30 KB). */
  maxJsonBytes: 2 * 1024 * 1024,
} as const;

export const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
