// Bundles a worker entry (TypeScript, ESM) into one module for workerd, the
// way wrangler does, for Miniflare in tests and `scripts/worker/local.ts`.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const WORKER_ENTRY = fileURLToPath(new URL('../../worker/main.ts', import.meta.url));

/** Writes `<outDir>/worker.js` and returns its path. */
export async function bundleWorker(entry: string = WORKER_ENTRY, outDir: string = mkdtempSync(join(tmpdir(), 'worker-bundle-'))): Promise<string> {
  const outfile = join(outDir, 'worker.js');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    // Node modules the runtime provides under the compatibility flags (wrangler leaves them to it too).
    external: ['node:async_hooks'],
    target: 'es2022',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return outfile;
}
