import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { temporaryDirectory } from '../support/files.ts';

const root = new URL('../../', import.meta.url).pathname;

describe('wrangler.toml', () => {
  it.each([
    ['production', ''],
    ['local', 'local'],
  ])('builds a deployable bundle for the %s environment (wrangler deploy --dry-run)', async (_, env) => {
    const out = temporaryDirectory('wrangler-', 'test');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(root, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', out, `--env=${env}`],
      { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' } },
    );
    expect(stdout).toContain('--dry-run: exiting now.');
    expect(existsSync(join(out, 'main.js'))).toBe(true);
    expect(statSync(join(out, 'main.js')).size).toBeGreaterThan(10_000);
  });
});
