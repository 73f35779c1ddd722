/**
 * Headless Chromium for the browser tests: Debian's /usr/bin/chromium (CHROMIUM_PATH overrides),
 * driven by playwright-core. `chromiumPath()` is undefined (after a warning) when it is missing,
 * except under CI=true, where .ci/run installs it and its absence is an error.
 */
import { accessSync, constants } from 'node:fs';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function chromiumPath(): string | undefined {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return CHROMIUM_PATH;
  } catch {
    const message = `Chromium is missing at ${CHROMIUM_PATH} (apt install chromium, or set CHROMIUM_PATH)`;
    if (process.env.CI === 'true') throw new Error(`${message}; with CI=true it is required`);
    console.warn(`skipping the browser tests: ${message}`);
    return undefined;
  }
}
