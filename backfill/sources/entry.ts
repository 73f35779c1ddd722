// What a source yields: one entry per item to index, before anything is read.

/** Fields a manifest line may give besides where the item is. */
export interface ManifestFields {
  id?: string;
  metadata?: Record<string, unknown>;
}

export type SourceEntry =
  /** A file on disk. `source` is its path relative to the root (or as the manifest wrote it). */
  | ({ kind: 'file'; path: string; source: string; nonImage: NonImagePolicy } & ManifestFields)
  | ({ kind: 'url'; url: string; source: string } & ManifestFields)
  | ({ kind: 'text'; text: string; source: string } & ManifestFields)
  /** A manifest line that could not be understood. */
  | { kind: 'invalid'; source: string; reason: string };

/**
 * A file whose content is not an image: in a directory it is passed over unless its name says it
 * is an image (a text file named .jpg is an error); anything a manifest names must be an image.
 */
export type NonImagePolicy = 'ignore' | 'error';

export interface Source {
  /** What is being backfilled (an absolute path, or "stdin"), for messages and the checkpoint. */
  readonly description: string;
  entries(): AsyncIterable<SourceEntry>;
  /** How many entries there are, from a second pass that reads no item; absent where it cannot be known (stdin). */
  count?(): Promise<number>;
}
