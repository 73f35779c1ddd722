// Downloads files into a directory with resume (HTTP Range onto a .part
// file) and checksum verification before a file takes its final name.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, statSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fetchFile, type HubFile, type HubLocation } from './hub.ts';

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
    const response = await fetchFile(location, file.path, have);
    if (!response.ok || !response.body) throw new Error(`downloading ${file.path} failed: HTTP ${response.status}`);
    // A server that ignores Range answers 200 with the whole file: start over.
    const resumed = response.status === 206;
    if (!resumed) have = 0;
    // Each chunk is on disk before the next is read, so a dropped connection
    // leaves every byte received for the next run to resume from.
    const out = await open(part, resumed ? 'a' : 'w');
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        await out.write(chunk);
        progress?.advance(file, chunk.length);
      }
    } finally {
      await out.close();
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
