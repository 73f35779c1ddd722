// A JSONL manifest, one item per line:
//   { "id"?, "path" | "url" | "text", "metadata"? }
// Relative paths are taken from the manifest's directory (from the working
// directory when the manifest comes on stdin). A line that cannot be
// understood becomes an error entry, and the run goes on.
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { Source, SourceEntry } from './entry.ts';
import { fileLines, isContent, numberedLines } from './lines.ts';

const manifestLine = z
  .strictObject({
    id: z.string().min(1).optional(),
    path: z.string().min(1).optional(),
    url: z.string().min(1).optional(),
    text: z.string().min(1).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((l) => [l.path, l.url, l.text].filter((v) => v !== undefined).length === 1, 'give exactly one of "path", "url" or "text"');

const describe = (error: z.ZodError) => error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');

/** One manifest line as an entry. */
export function manifestEntry(line: string, where: string, baseDir: string): SourceEntry {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { kind: 'invalid', source: where, reason: 'not a JSON object' };
  }
  const parsed = manifestLine.safeParse(json);
  if (!parsed.success) return { kind: 'invalid', source: where, reason: describe(parsed.error) };
  const { id, path, url, text, metadata } = parsed.data;
  const fields = { ...(id !== undefined ? { id } : {}), ...(metadata !== undefined ? { metadata } : {}) };
  if (path !== undefined) return { kind: 'file', path: isAbsolute(path) ? path : resolve(baseDir, path), source: path, nonImage: 'error', ...fields };
  if (url !== undefined) {
    const checked = checkUrl(url);
    return typeof checked === 'string' ? { kind: 'invalid', source: where, reason: checked } : { kind: 'url', url, source: url, ...fields };
  }
  return { kind: 'text', text: text!, source: where, ...fields };
}

/** A URL the CLI can fetch, or the reason it cannot. */
export function checkUrl(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `not a URL: ${JSON.stringify(text.slice(0, 200))}`;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : `only http and https URLs can be fetched: ${text.slice(0, 200)}`;
}

async function* manifestEntries(lines: AsyncIterable<{ line: string; number: number }>, name: string, baseDir: string): AsyncGenerator<SourceEntry> {
  for await (const { line, number } of lines) if (isContent(line)) yield manifestEntry(line, `${name}:${number}`, baseDir);
}

async function countContentLines(path: string): Promise<number> {
  let n = 0;
  for await (const { line } of fileLines(path)) if (isContent(line)) n++;
  return n;
}

export function manifestFileSource(path: string): Source {
  const absolute = resolve(path);
  return {
    description: absolute,
    entries: () => manifestEntries(fileLines(absolute), basename(absolute), dirname(absolute)),
    count: () => countContentLines(absolute),
  };
}

export function manifestStreamSource(input: Readable, baseDir: string): Source {
  return { description: 'stdin', entries: () => manifestEntries(numberedLines(input), 'stdin', baseDir) };
}

/** A plain list of image URLs, one a line; blank lines and # comments are passed over. */
export function urlListSource(path: string): Source {
  const absolute = resolve(path);
  return {
    description: absolute,
    async *entries(): AsyncGenerator<SourceEntry> {
      for await (const { line, number } of fileLines(absolute)) {
        if (!isContent(line)) continue;
        const url = line.trim();
        const checked = checkUrl(url);
        yield typeof checked === 'string' ? { kind: 'invalid', source: `${basename(absolute)}:${number}`, reason: checked } : { kind: 'url', url, source: url };
      }
    },
    count: () => countContentLines(absolute),
  };
}
