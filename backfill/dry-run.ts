// --dry-run: walk the source, sniff each file's first bytes, count. Nothing
// is written and no service is called.
import { sniffImageFormat } from '../embedder/image/sniff.ts';
import type { LoadedCheckpoint } from './checkpoint.ts';
import { entryKey } from './keys.ts';
import { log } from './log.ts';
import type { Source } from './sources/entry.ts';
import { fileFacts, fileHead } from './sources/read.ts';
import { THUMBNAIL_SIZE } from './thumbnail.ts';

export interface DryRunCounts {
  entries: number;
  images: Record<string, number>;
  imageBytes: number;
  urls: number;
  texts: number;
  /** Files in a directory that are no image: passed over. */
  ignored: number;
  /** Would fail: not an image though named like one or listed, unreadable, invalid manifest lines. */
  errors: number;
  /** Entries the checkpoint already holds. */
  inCheckpoint: number;
}

export async function dryRun(source: Source, checkpoint: LoadedCheckpoint | undefined): Promise<DryRunCounts> {
  const counts: DryRunCounts = { entries: 0, images: {}, imageBytes: 0, urls: 0, texts: 0, ignored: 0, errors: 0, inCheckpoint: 0 };
  const error = (where: string, reason: string) => {
    counts.errors++;
    log.info(`would fail: ${where}: ${reason}`);
  };
  const known = (key: string) => {
    const done = checkpoint?.keys.has(key) ?? false;
    if (done) counts.inCheckpoint++;
    return done;
  };
  for await (const entry of source.entries()) {
    counts.entries++;
    switch (entry.kind) {
      case 'invalid':
        error(entry.source, entry.reason);
        break;
      case 'text':
        if (!known(entryKey(entry))) counts.texts++;
        break;
      case 'url':
        if (!known(entryKey(entry))) counts.urls++;
        break;
      case 'file': {
        let facts;
        let format;
        try {
          facts = await fileFacts(entry.path);
          format = sniffImageFormat(await fileHead(entry.path, facts.size));
        } catch (e) {
          error(entry.source, (e as Error).message);
          break;
        }
        if (!format) {
          if (entry.nonImage === 'ignore') counts.ignored++;
          else error(entry.source, facts.size === 0 ? 'empty file' : 'not an image');
          break;
        }
        if (known(entryKey(entry, facts))) break;
        counts.images[format] = (counts.images[format] ?? 0) + 1;
        counts.imageBytes += facts.size;
      }
    }
  }
  return counts;
}

/** `thumbnails`: --thumbnails, one of each image and URL (their size is known only once made). */
export function describeDryRun(description: string, counts: DryRunCounts, checkpointPath: string | undefined, thumbnails = false): string {
  const images = Object.values(counts.images).reduce((a, b) => a + b, 0);
  const formats = Object.entries(counts.images)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([f, n]) => `${f} ${n}`)
    .join(', ');
  const parts = [
    `${images} images to index${images ? ` (${formats}; ${(counts.imageBytes / 1e6).toFixed(1)} MB)` : ''}`,
    ...(counts.urls ? [`${counts.urls} URLs to fetch`] : []),
    ...(counts.texts ? [`${counts.texts} texts`] : []),
    ...(thumbnails && images + counts.urls ? [`${images + counts.urls} WebP thumbnails to make (at most ${THUMBNAIL_SIZE} px on the long side, a few KB each)`] : []),
    `${counts.inCheckpoint} already indexed${checkpointPath ? ` (${checkpointPath})` : ''}`,
    `${counts.ignored} not images (passed over)`,
    `${counts.errors} would fail`,
  ];
  return `dry run of ${description}: ${counts.entries} entries: ${parts.join(', ')}. Nothing was written.`;
}
