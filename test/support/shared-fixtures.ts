/**
 * Access to the shared reference material in ../shared beside the repository
 * (fixtures, docs), which a user's clone does not have. A test that needs it calls
 * `sharedPath()`: when the path is missing it gets `undefined` (and a warning)
 * so it can skip, except under CI=true, where a missing path is an error.
 * SHARED_DIR overrides the location.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED_ROOT = process.env.SHARED_DIR ?? fileURLToPath(new URL('../../../shared', import.meta.url));

/** Absolute path of `relative` under the shared root, or undefined (after a warning) when it is missing. */
export function sharedPath(relative: string): string | undefined {
  const path = join(SHARED_ROOT, relative);
  if (existsSync(path)) return path;
  const message = `shared fixture ${path} is missing`;
  if (process.env.CI === 'true') throw new Error(`${message}; with CI=true shared fixtures are required`);
  console.warn(`skipping tests that need it: ${message} (set CI=true to make this an error)`);
  return undefined;
}
