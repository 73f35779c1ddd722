// The source argument: a directory, a JSONL manifest, a plain list of URLs,
// or "-" for a manifest on stdin.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../failures.ts';
import { directorySource } from './directory.ts';
import type { Source } from './entry.ts';
import { firstContentLine } from './lines.ts';
import { manifestFileSource, manifestStreamSource, urlListSource } from './manifest.ts';

export async function openSource(argument: string, cwd: string): Promise<Source> {
  if (argument === '-') return manifestStreamSource(process.stdin, cwd);
  const path = resolve(cwd, argument);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new UsageError(`source ${argument} does not exist`);
  if (info.isDirectory()) return directorySource(path);
  if (!info.isFile()) throw new UsageError(`source ${argument} is neither a directory nor a file`);
  // A manifest's lines are JSON objects; a URL list's are URLs.
  const first = await firstContentLine(path);
  if (first === undefined || first.startsWith('{')) return manifestFileSource(path);
  if (/^https?:\/\//i.test(first)) return urlListSource(path);
  throw new UsageError(`${argument} is neither a JSONL manifest (a JSON object a line) nor a list of http(s) URLs; its first line is ${JSON.stringify(first.slice(0, 80))}`);
}
