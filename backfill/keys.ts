// An entry's checkpoint key: what identifies it across runs before anything
// is read. A manifest's id when it gives one; else a file's path with its size
// and modification time (a changed file is indexed again), a URL, or a text.
import { fingerprint } from './fingerprint-set.ts';
import type { SourceEntry } from './sources/entry.ts';
import type { FileFacts } from './sources/read.ts';

type Keyed = Exclude<SourceEntry, { kind: 'invalid' }>;

export function entryKey(entry: Keyed, facts?: FileFacts): string {
  if (entry.id !== undefined) return fingerprint(`id:${entry.id}`);
  switch (entry.kind) {
    case 'text':
      return fingerprint(`text:${entry.text}`);
    case 'url':
      return fingerprint(`url:${entry.url}`);
    case 'file':
      if (!facts) throw new Error('a file key needs its size and modification time');
      return fingerprint(`file:${entry.source}:${facts.size}:${facts.mtimeMs}`);
  }
}
