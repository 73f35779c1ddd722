// Small durable-filesystem helpers.
import { open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** fsync a directory so that a create, rename or unlink in it is durable. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** Write to a temporary file, fsync it, rename over `path`, fsync the directory. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, data);
  await syncFile(tmp);
  await rename(tmp, path);
  await syncDir(dirname(path));
}
