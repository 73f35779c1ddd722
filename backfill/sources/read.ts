// The bytes of an item: a file read from disk, or a URL fetched by the CLI
// (so that ids, sizes and dimensions come from the bytes that are embedded).
import { open, stat, type FileHandle } from 'node:fs/promises';
import { readAtMost } from '../../common/bytes.ts';
import { ItemError, TransientError, networkMessage, retryAfterMs } from '../failures.ts';
import { retrying, type RetryPolicy } from '../retry.ts';

/** Nothing larger is read: the embedder's request limit (EMBEDDER_MAX_BODY_BYTES) is 32 MiB by default. */
export const MAX_ITEM_BYTES = 32 * 1024 * 1024;
/** Enough of a file to tell an image from anything else by its magic bytes. */
export const SNIFF_BYTES = 512;

export interface FileFacts {
  size: number;
  mtimeMs: number;
}

export async function fileFacts(path: string): Promise<FileFacts> {
  try {
    const info = await stat(path);
    return { size: info.size, mtimeMs: Math.trunc(info.mtimeMs) };
  } catch (error) {
    throw new ItemError('unreadable', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

async function headOf(handle: FileHandle, size: number): Promise<Uint8Array> {
  const head = new Uint8Array(Math.min(size, SNIFF_BYTES));
  const { bytesRead } = await handle.read(head, 0, head.length, 0);
  return head.subarray(0, bytesRead);
}

/** The first SNIFF_BYTES of a file. */
export async function fileHead(path: string, size: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    return await headOf(handle, size);
  } finally {
    await handle.close();
  }
}

/**
 * The whole file if its first bytes pass `isWanted`, else undefined: a file that is no image is never
 * read whole, however large.
 */
export async function readFile(path: string, size: number, isWanted: (head: Uint8Array) => boolean): Promise<Uint8Array | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new ItemError('unreadable', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    if (!isWanted(await headOf(handle, size))) return undefined;
    if (size > MAX_ITEM_BYTES) throw new ItemError('too_large', `${size} bytes; at most ${MAX_ITEM_BYTES} are sent to the embedder`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

export const URL_RETRY: RetryPolicy = { baseMs: 500, capMs: 8000, deadlineMs: 30_000 };

/**
 * The body of an http(s) URL, following redirects, at most MAX_ITEM_BYTES. 408, 429, 5xx and network
 * errors are retried with backoff for a while; then, like any 4xx, they are the item's error.
 */
export async function fetchUrl(url: string, timeoutMs = 30_000, policy = URL_RETRY): Promise<Uint8Array> {
  try {
    return await retrying(`GET ${url}`, () => fetchOnce(url, timeoutMs), policy);
  } catch (error) {
    if (error instanceof ItemError) throw error;
    throw new ItemError('unreachable', (error as Error).message);
  }
}

async function fetchOnce(url: string, timeoutMs: number): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (error) {
    throw new TransientError(`GET ${url}: ${networkMessage(error)}`);
  }
  if (response.status === 408 || response.status === 429 || response.status >= 500) {
    await response.body?.cancel();
    throw new TransientError(`GET ${url}: HTTP ${response.status}`, retryAfterMs(response.headers.get('retry-after')));
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new ItemError(`http_${response.status}`, `GET ${url}: HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > MAX_ITEM_BYTES) {
    await response.body?.cancel();
    throw new ItemError('too_large', `GET ${url}: ${declared} bytes; at most ${MAX_ITEM_BYTES} are sent to the embedder`);
  }
  let bytes: Uint8Array | null;
  try {
    bytes = response.body ? await readAtMost(response.body, MAX_ITEM_BYTES) : new Uint8Array();
  } catch (error) {
    throw new TransientError(`GET ${url}: body cut off (${networkMessage(error)})`);
  }
  if (!bytes) throw new ItemError('too_large', `GET ${url}: over ${MAX_ITEM_BYTES} bytes; at most that is sent to the embedder`);
  return bytes;
}
