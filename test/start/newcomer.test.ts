// The README's first command, as a newcomer runs it: `npm start` with no model
// named serves the demo model and says so, `npm run demo` fills the index with
// pictures, and the page's first searches find what they name.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { collectionItems } from '../../demo/collection/generate.ts';
import { DEMO_SEED } from '../../demo/train/settings.ts';
import { temporaryDirectory } from '../support/files.ts';
import { ADMIN_TOKEN, startStackCommand } from './stack-command.ts';

const EMBEDDER_TOKEN = 'start-test-embedder-token';
const COUNT = 60;

interface Found {
  results: { id: string; metadata: { labels: string; objects: number; background: string } }[];
}

function runDemo(env: Record<string, string>, out: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/run.ts', '--count', String(COUNT), '--out', out], {
    cwd: new URL('../../', import.meta.url).pathname,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

describe('npm start, then npm run demo, on a fresh machine', () => {
  it('serves the demo model with its banner, indexes the demo collection with thumbnails and finds what a query names', { timeout: 180_000 }, async () => {
    const stack = await startStackCommand({ MODEL_DIR: '' });
    await stack.waitFor(/^search API:/);
    expect(stack.lines.join('\n')).toContain('serving the demo model (demo/model)');

    const info = (await (await fetch(`${stack.url}/v1/info`)).json()) as { model: { id: string; dim: number; notice?: string }; filterable: { name: string; type: string }[] };
    expect(info.model).toMatchObject({ id: 'crossmodal-demo-clip', dim: 64 });
    expect(info.model.notice).toMatch(/demo model/);
    expect(info.filterable).toEqual([
      { name: 'background', type: 'string' },
      { name: 'objects', type: 'number' },
    ]);
    const page = await fetch(`${stack.url}/`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);

    const demo = await runDemo({ ADMIN_TOKEN, EMBEDDER_TOKEN, WORKER_URL: stack.url, EMBEDDER_URL: stack.embedderUrl }, join(temporaryDirectory('start-demo-', 'test'), 'demo'));
    expect(demo.code, demo.output).toBe(0);
    expect(demo.output).toContain(`indexed ${COUNT}, skipped 0`);

    // One-object images, filtered as the page's filters do: for each pair the collection holds alone
    // in a picture, "a <colour> <shape>" puts such a picture first (the model names 97% of them).
    const collection = await collectionItems(COUNT, { seed: DEMO_SEED, split: 'demo' });
    const alone = [...new Set(collection.filter((item) => item.scene.objects.length === 1).map((item) => item.labels))];
    expect(alone.length).toBeGreaterThan(10);
    let named = 0;
    for (const label of alone) {
      const response = await fetch(`${stack.url}/v1/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `a ${label}`, k: 3, filter: { objects: 1 }, metadata: 'all' }),
      });
      expect(response.status).toBe(200);
      const { results } = (await response.json()) as Found;
      expect(results.every((r) => r.metadata.objects === 1)).toBe(true);
      if (results[0]!.metadata.labels === label) named++;
    }
    expect(named / alone.length).toBeGreaterThanOrEqual(0.8);

    const { results } = (await (await fetch(`${stack.url}/v1/search?q=a%20blue%20star&k=1`)).json()) as Found;
    const thumbnail = await fetch(`${stack.url}/v1/items/${encodeURIComponent(results[0]!.id)}/thumbnail`);
    expect(thumbnail.headers.get('content-type')).toBe('image/webp');
    expect((await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata()).format).toBe('webp');
  });
});
