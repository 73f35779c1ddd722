// Downloads files into a directory with resume (HTTP Range onto a .part
// file) and checksum verification before a file takes its final name.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { getFile, type HubFile, type HubLocation } from './hub.ts';

export interface DownloadProgress {
  start(file: HubFile, alreadyHave: number): void;
  advance(file: HubFile, bytes: number): void;
  finish(file: HubFile): void;
}

async function digest(path: string, file: HubFile): Promise<{ ok: boolean; expected: string; actual: string }> {
  const hash = createHash(file.sha256 ? 'sha256' : 'sha1');
  // A git-stored file's oid is the SHA-1 of "blob <size>\0<content>".
  if (!file.sha256) hash.update(`blob ${statSync(path).size}\0`);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  const actual = hash.digest('hex');
  const expected = (file.sha256 ?? file.gitOid ?? '').toLowerCase();
  return { ok: expected === '' || actual === expected, expected, actual };
}

// Each chunk is written synchronously as it arrives, so nothing waits in a
// buffer: a dropped connection leaves every byte received on disk for the next
// run to resume from.
async function writeBody(response: IncomingMessage, fd: number, advance: (bytes: number) => void): Promise<{ written: number; broken?: Error }> {
  let written = 0;
  let writeError: Error | undefined;
  response.on('data', (chunk: Buffer) => {
    try {
      writeSync(fd, chunk);
      written += chunk.length;
      advance(chunk.length);
    } catch (error) {
      writeError = error as Error;
      response.destroy(writeError);
    }
  });
  try {
    await finished(response);
    return { written };
  } catch (error) {
    if (writeError) throw writeError;
    return { written, broken: error as Error };
  }
}

export async function downloadFile(location: HubLocation, file: HubFile, dir: string, progress?: DownloadProgress): Promise<'cached' | 'downloaded'> {
  const target = join(dir, file.path);
  if (existsSync(target) && statSync(target).size === file.size && (await digest(target, file)).ok) return 'cached';
  mkdirSync(dirname(target), { recursive: true });
  const part = `${target}.part`;
  let have = existsSync(part) ? statSync(part).size : 0;
  if (have > file.size) {
    rmSync(part);
    have = 0;
  }
  progress?.start(file, have);
  if (have < file.size || file.size === 0) {
    const response = await getFile(location, file.path, have);
    const status = response.statusCode ?? 0;
    if (status !== 200 && status !== 206) {
      response.resume();
      throw new Error(`downloading ${file.path} failed: HTTP ${status}`);
    }
    // A server that ignores Range answers 200 with the whole file: start over.
    const resumed = status === 206;
    if (!resumed) have = 0;
    const fd = openSync(part, resumed ? 'a' : 'w');
    let body: Awaited<ReturnType<typeof writeBody>>;
    try {
      body = await writeBody(response, fd, (bytes) => progress?.advance(file, bytes));
    } finally {
      closeSync(fd);
    }
    have += body.written;
    if (have < file.size) {
      const why = body.broken ? body.broken.message : 'the server closed the connection';
      throw new Error(`downloading ${file.path}: stopped at byte ${have} of ${file.size} (${why}); run again to resume`);
    }
  }
  const check = await digest(part, file);
  if (!check.ok) {
    rmSync(part);
    throw new Error(`${file.path}: checksum mismatch (expected ${check.expected}, got ${check.actual}); the partial file was removed, run again`);
  }
  renameSync(part, target);
  progress?.finish(file);
  return 'downloaded';
}
