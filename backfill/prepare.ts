// A source entry made ready to embed: read (or fetched), recognised as an
// image by its content, measured from its header (no pixel is decoded),
// identified and described. Entries the checkpoint already holds are
// recognised before anything is read.
import { probeImage, uprightSize } from '../embedder/image/probe.ts';
import { sniffImageFormat } from '../embedder/image/sniff.ts';
import { ImageInputError } from '../embedder/image/errors.ts';
import { idSchema } from '../worker/schemas.ts';
import { ItemError } from './failures.ts';
import { imageContentId, locatorId, textContentId, type IdFrom } from './ids.ts';
import type { Metadata, PreparedItem } from './items.ts';
import { entryKey } from './keys.ts';
import { imageMetadata, textMetadata } from './metadata.ts';
import type { SourceEntry } from './sources/entry.ts';
import { fetchUrl, fileFacts, readFile } from './sources/read.ts';

export type Prepared =
  | { outcome: 'item'; item: PreparedItem }
  /** The checkpoint has it: acknowledged by the target in an earlier run. */
  | { outcome: 'skipped' }
  /** A file in a directory that is no image. */
  | { outcome: 'ignored' }
  | { outcome: 'failed'; source: string; error: ItemError };

export interface PrepareContext {
  idFrom: IdFrom;
  /** The embedder's model, stored as metadata.model (absent when nothing is embedded here). */
  model?: string | undefined;
  /** True when the checkpoint holds this fingerprint. */
  isDone(key: string): boolean;
}

/** Vectorize counts an id's bytes; a manifest's id is used as given or refused, never rewritten. */
function givenId(id: string): string {
  const parsed = idSchema.safeParse(id);
  if (!parsed.success) throw new ItemError('invalid_id', `id ${JSON.stringify(id.slice(0, 80))}: ${parsed.error.issues[0]!.message}`);
  return id;
}

async function imageItem(
  key: string,
  source: string,
  bytes: Uint8Array,
  entry: { id?: string; metadata?: Metadata },
  { idFrom, model }: PrepareContext,
): Promise<PreparedItem> {
  let header;
  try {
    // Every size is let through here: the embedder applies its own pixel limit.
    header = await probeImage(bytes, Number.MAX_SAFE_INTEGER);
  } catch (error) {
    if (error instanceof ImageInputError) throw new ItemError(error.code, error.message);
    throw error;
  }
  const { width, height } = uprightSize(header);
  const contentId = entry.id === undefined && idFrom === 'content';
  const id = entry.id !== undefined ? givenId(entry.id) : contentId ? imageContentId(bytes) : locatorId(source);
  const metadata = imageMetadata({ source, width, height, bytes: bytes.byteLength, format: header.format }, entry.metadata, model);
  return { key, id, contentId, source, metadata, input: { kind: 'image', bytes }, duplicates: [] };
}

export async function prepare(entry: SourceEntry, context: PrepareContext): Promise<Prepared> {
  try {
    switch (entry.kind) {
      case 'invalid':
        throw new ItemError('invalid_entry', entry.reason);
      case 'text': {
        const key = entryKey(entry);
        if (context.isDone(key)) return { outcome: 'skipped' };
        // A text has no path: its id comes from its content either way.
        const id = entry.id !== undefined ? givenId(entry.id) : textContentId(entry.text);
        const metadata = textMetadata(entry.text, entry.metadata, context.model);
        const item: PreparedItem = { key, id, contentId: entry.id === undefined, source: entry.source, metadata, input: { kind: 'text', text: entry.text }, duplicates: [] };
        return { outcome: 'item', item };
      }
      case 'url': {
        const key = entryKey(entry);
        if (context.isDone(key)) return { outcome: 'skipped' };
        const bytes = await fetchUrl(entry.url);
        if (!sniffImageFormat(bytes)) throw notAnImage(bytes);
        return { outcome: 'item', item: await imageItem(key, entry.source, bytes, entry, context) };
      }
      case 'file': {
        const facts = await fileFacts(entry.path);
        const key = entryKey(entry, facts);
        if (context.isDone(key)) return { outcome: 'skipped' };
        let rejected: Uint8Array | undefined;
        const bytes = await readFile(entry.path, facts.size, (head) => {
          if (sniffImageFormat(head)) return true;
          rejected = head;
          return false;
        });
        if (!bytes) {
          if (entry.nonImage === 'ignore') return { outcome: 'ignored' };
          throw notAnImage(rejected ?? new Uint8Array());
        }
        return { outcome: 'item', item: await imageItem(key, entry.source, bytes, entry, context) };
      }
    }
  } catch (error) {
    if (error instanceof ItemError) return { outcome: 'failed', source: entry.source, error };
    throw error;
  }
}

function notAnImage(head: Uint8Array): ItemError {
  if (head.byteLength === 0) return new ItemError('empty', 'empty file (0 bytes)');
  const start = Buffer.from(head.subarray(0, 8)).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return new ItemError('not_an_image', `not a JPEG, PNG, WebP, GIF, TIFF or AVIF image (first bytes: ${start})`);
}
