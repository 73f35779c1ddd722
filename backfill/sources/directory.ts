// A directory, walked recursively as a stream: one open directory handle
// per level, so memory does not grow with the number of files. Symbolic
// links are followed; a directory already visited (a link loop, or the same
// directory reached twice) is not walked again.
import type { Dirent } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { NonImagePolicy, Source, SourceEntry } from './entry.ts';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);

/** A file named like an image must be one; any other file is looked at by content and passed over if it is none. */
export const nonImagePolicy = (name: string): NonImagePolicy => (IMAGE_EXTENSIONS.has(extname(name).toLowerCase()) ? 'error' : 'ignore');

export interface WalkedFile {
  path: string;
  relative: string;
  /** Set for a directory that could not be read: it is reported, and the walk goes on. */
  unreadable?: string;
}

/** Every file below `root`, as absolute and '/'-separated relative paths. */
export async function* walkFiles(root: string): AsyncGenerator<WalkedFile> {
  const visited = new Set<string>();
  async function* walk(dir: string, relative: string): AsyncGenerator<WalkedFile> {
    let handle: AsyncIterable<Dirent>;
    try {
      const info = await stat(dir);
      const identity = `${info.dev}:${info.ino}`;
      if (visited.has(identity)) return;
      visited.add(identity);
      handle = await opendir(dir);
    } catch (error) {
      yield { path: dir, relative: relative || '.', unreadable: `cannot read the directory: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
      return;
    }
    for await (const dirent of handle) {
      const path = join(dir, dirent.name);
      const rel = relative ? `${relative}/${dirent.name}` : dirent.name;
      if (dirent.isDirectory()) yield* walk(path, rel);
      else if (dirent.isFile()) yield { path, relative: rel };
      else if (dirent.isSymbolicLink()) {
        const target = await stat(path).catch(() => undefined);
        if (target?.isDirectory()) yield* walk(path, rel);
        // A dangling link is yielded as a file: reading it fails, and that is reported.
        else if (!target || target.isFile()) yield { path, relative: rel };
      }
      // Sockets, FIFOs and devices are not files to index.
    }
  }
  yield* walk(resolve(root), '');
}

export function directorySource(root: string): Source {
  const absolute = resolve(root);
  return {
    description: absolute,
    async *entries(): AsyncGenerator<SourceEntry> {
      for await (const { path, relative, unreadable } of walkFiles(absolute))
        yield unreadable ? { kind: 'invalid', source: relative, reason: unreadable } : { kind: 'file', path, source: relative, nonImage: nonImagePolicy(relative) };
    },
    async count() {
      let n = 0;
      for await (const _ of walkFiles(absolute)) n++;
      return n;
    },
  };
}
