// A source entry made ready to embed: read (or fetched), recognised as an
// image by its content, measured from its header (no pixel is decoded),
// identified and described. Entries the checkpoint already holds are
// recognised before anything is read. For a descriptor target (the queue),
// a URL is identified and described without being fetched: the consumer on
// the other side fetches it; files and texts cannot travel and fail at once.
import { probeImage, uprightSize } from '../embedder/image/probe.ts';
import { sniffImageFormat } from '../embedder/image/sniff.ts';
import { ImageInputError } from '../embedder/image/errors.ts';
import { idSchema } from '../worker/schemas.ts';
import { ItemError } from './failures.ts';
import { imageContentId, locatorId, textContentId, urlId, type IdFrom } from './ids.ts';
import type { Metadata, PreparedItem } from './items.ts';
import { entryKey } from './keys.ts';
import { imageMetadata, textMetadata, urlMetadata } from './metadata.ts';
import type { SourceEntry } from './sources/entry.ts';
import { fetchUrl, fileFacts, readFile } from './sources/read.ts';
import { makeThumbnail } from './thumbnail.ts';

export type Prepared =
  | { outcome: 'item'; item: PreparedItem }
  /** The checkpoint has it: acknowledged by the target in an earlier run. */
  | { outcome: 'skipped' }
  /** A file in a directory that is no image. */
  | { outcome: 'ignored' }
  /** `id`: the manifest's, when it gave one. */
  | { outcome: 'failed'; source: string; id?: string; error: ItemError };

export interface PrepareContext {
  idFrom: IdFrom;
  /** The embedder's model, stored as metadata.model (absent when nothing is embedded here). */
  model?: string | undefined;
  /** The target takes descriptors (the queue): URLs are sent unread, and nothing else can be sent. */
  describeOnly: boolean;
  /** Make a WebP thumbnail of each image read (--thumbnails). */
  thumbnails: boolean;
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
  entry: { id?: string; url?: string; metadata?: Metadata },
  { idFrom, model, thumbnails }: PrepareContext,
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
  // --id-from url names URLs only: a file's id comes from its content, as by default.
  const contentId = entry.id === undefined && (idFrom === 'content' || (idFrom === 'url' && entry.url === undefined));
  const id = entry.id !== undefined ? givenId(entry.id) : contentId ? imageContentId(bytes) : idFrom === 'url' ? urlId(entry.url!) : locatorId(source);
  const metadata = imageMetadata({ source, width, height, bytes: bytes.byteLength, format: header.format }, entry.metadata, model);
  const thumbnail = thumbnails ? await makeThumbnail(bytes) : undefined;
  return { key, id, contentId, source, metadata, input: { kind: 'image', bytes }, duplicates: [], ...(thumbnail ? { thumbnail } : {}) };
}

/** A URL for the other side to fetch: identified and described from the entry alone. */
function urlItem(key: string, entry: { url: string; source: string; id?: string; metadata?: Metadata }, { idFrom }: PrepareContext): PreparedItem {
  if (idFrom === 'content') throw new Error('content ids need the bytes; options refuse --id-from content for a descriptor target');
  const id = entry.id !== undefined ? givenId(entry.id) : idFrom === 'url' ? urlId(entry.url) : locatorId(entry.source);
  return { key, id, contentId: false, source: entry.source, metadata: urlMetadata(entry.source, entry.metadata), input: { kind: 'url', url: entry.url }, duplicates: [] };
}

export async function prepare(entry: SourceEntry, context: PrepareContext): Promise<Prepared> {
  try {
    if (context.describeOnly && (entry.kind === 'file' || entry.kind === 'text'))
      throw new ItemError(
        'not_a_url',
        `${entry.source} is not an image URL: --target queue sends URLs for the worker to fetch, and it cannot read files on this machine`,
      );
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
        if (context.describeOnly) return { outcome: 'item', item: urlItem(key, entry, context) };
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
    if (error instanceof ItemError) return { outcome: 'failed', source: entry.source, ...('id' in entry && entry.id !== undefined ? { id: entry.id } : {}), error };
    throw error;
  }
}

function notAnImage(head: Uint8Array): ItemError {
  if (head.byteLength === 0) return new ItemError('empty', 'empty file (0 bytes)');
  const start = Buffer.from(head.subarray(0, 8)).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return new ItemError('not_an_image', `not a JPEG, PNG, WebP, GIF, TIFF or AVIF image (first bytes: ${start})`);
}
