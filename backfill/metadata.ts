// Metadata stored with each vector: where the item came from and what it is,
// then whatever the manifest gives (which wins on a name clash), then the
// model that made the vector (`model`, as the worker's writes store it, so a
// migration can tell two embedding spaces apart: worker/README.md). Checked
// against Vectorize's rules (keys, value types, 10 KiB as JSON) with the
// worker's own schema; a breach is the item's error, not the run's.
import { metadataSchema } from '../worker/schemas.ts';
import { ItemError } from './failures.ts';
import type { Metadata } from './items.ts';

export interface ImageFacts {
  source: string;
  width: number;
  height: number;
  bytes: number;
  format: string;
}

/** `model`: the embedder's model id, when this run embeds (a descriptor target leaves it to the worker's consumer). */
export function imageMetadata(facts: ImageFacts, given: Metadata | undefined, model?: string): Metadata {
  return checked({ ...facts, ...given, ...(model !== undefined ? { model } : {}) });
}

/**
 * An image a descriptor target sends by URL, unread: only its source and the manifest's metadata.
 * Its size, width and height are unknown here; the queue's consumer adds `bytes` and `model`.
 */
export function urlMetadata(source: string, given: Metadata | undefined): Metadata {
  return checked({ source, ...given });
}

export function textMetadata(text: string, given: Metadata | undefined, model?: string): Metadata {
  return checked({ text, bytes: Buffer.byteLength(text, 'utf8'), ...given, ...(model !== undefined ? { model } : {}) });
}

function checked(metadata: Metadata): Metadata {
  const parsed = metadataSchema.safeParse(metadata);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
  const size = Buffer.byteLength(JSON.stringify(metadata), 'utf8');
  throw new ItemError('invalid_metadata', `metadata (${size} bytes as JSON) breaks Vectorize's rules: ${issues}`);
}
