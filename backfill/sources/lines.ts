// Lines of a file or of stdin, numbered from 1, read as a stream.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export async function* numberedLines(input: Readable): AsyncGenerator<{ line: string; number: number }> {
  let number = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) yield { line, number: ++number };
}

export const fileLines = (path: string) => numberedLines(createReadStream(path));

/** The first line that is neither blank nor a # comment, or undefined. */
export async function firstContentLine(path: string): Promise<string | undefined> {
  const lines = fileLines(path);
  try {
    for await (const { line } of lines) if (isContent(line)) return line.trim();
    return undefined;
  } finally {
    await lines.return(undefined);
  }
}

export const isContent = (line: string) => line.trim() !== '' && !line.trimStart().startsWith('#');
