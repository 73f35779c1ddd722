import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';

/**
 * A new directory in the system temp dir, removed when the suite (called while collecting) or the test
 * (called inside one) that made it is done.
 */
export function temporaryDirectory(prefix: string, scope: 'suite' | 'test' = 'suite'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  if (scope === 'suite') afterAll(remove);
  else onTestFinished(remove);
  return dir;
}

/** Every file below `dir`, as sorted '/'-separated relative paths. */
export function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => statSync(join(dir, p)).isFile())
    .map((p) => p.split('\\').join('/'))
    .sort();
}
