/**
 * The shared reference material in ../shared beside the repository (fixtures, docs), which a
 * user's clone does not have. Every test that reads it is declared with `describeWithShared`:
 * the suite's body runs (and so reads anything) only when all the paths it needs exist. Without
 * them the suite is reported as skipped with the missing paths and a warning, except under
 * CI=true, where a missing path fails the run. SHARED_DIR overrides the location.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

export const SHARED_ROOT = process.env.SHARED_DIR ?? fileURLToPath(new URL('../../../shared', import.meta.url));

type Absolute<Relative extends readonly string[]> = { [K in keyof Relative]: string };

/**
 * `describe(name, () => body(...absolutePaths))` when every path in `relatives` (relative to the
 * shared root) exists; otherwise a skipped suite of that name that says what is missing.
 */
export function describeWithShared<const Relative extends readonly string[]>(
  name: string,
  relatives: Relative,
  body: (...paths: Absolute<Relative>) => void,
): void {
  const paths = relatives.map((relative) => join(SHARED_ROOT, relative)) as unknown as Absolute<Relative>;
  const missing = paths.filter((path) => !existsSync(path));
  if (missing.length === 0) {
    describe(name, () => body(...paths));
    return;
  }
  const message = `shared fixture${missing.length > 1 ? 's' : ''} missing: ${missing.join(', ')}`;
  if (process.env.CI === 'true') throw new Error(`${message} (with CI=true shared fixtures are required)`);
  console.warn(`skipping "${name}": ${message} (set CI=true to make this an error)`);
  describe(name, () => {
    it.skip(message);
  });
}
