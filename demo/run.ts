// npm run demo [-- --count 300] [--seed 2] [--out .demo-data/demo]
//
// Renders a demo collection (a different seed from training) and backfills it
// into the running stack (`npm start`) through the backfill CLI and the
// worker's admin API, with a thumbnail of each image (--thumbnails: the
// worker's R2 bucket), so the search page has something to search and
// pictures to show. Needs the stack's ADMIN_TOKEN and EMBEDDER_TOKEN in the
// environment (npm start prints the ones it generated; set them before
// starting it to choose your own).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeCollection } from './collection/generate.ts';
import { DEMO_SEED } from './train/settings.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '300' },
    seed: { type: 'string', default: String(DEMO_SEED) },
    out: { type: 'string', default: '.demo-data/demo' },
  },
});

const missing = ['ADMIN_TOKEN', 'EMBEDDER_TOKEN'].filter((name) => !process.env[name]);
if (missing.length) {
  console.error(
    `npm run demo writes into the running stack and needs ${missing.join(' and ')} (npm start prints the generated ones):\n` +
      '  ADMIN_TOKEN=... EMBEDDER_TOKEN=... npm run demo',
  );
  process.exit(2);
}

const count = Number(values.count);
const seed = Number(values.seed);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed) || seed < 0) throw new Error('--count and --seed must be whole numbers');

const written = await writeCollection({ split: 'demo', seed, count, outDir: values.out });
console.log(`rendered ${written.count} images into ${values.out}; backfilling them through the worker`);

// The ids are fixed by (seed, index), so writing again is an upsert: start each run afresh,
// so that a stack started on an empty index gets every item again.
const checkpoint = join(values.out, 'backfill.checkpoint');
rmSync(checkpoint, { force: true });
const backfill = spawn(process.execPath, ['--import', 'tsx', 'backfill/cli.ts', written.manifest, '--target', 'worker', '--thumbnails', '--checkpoint', checkpoint], {
  stdio: 'inherit',
});
const code = await new Promise<number>((resolve) => backfill.once('close', (c) => resolve(c ?? 1)));
if (code === 0) {
  const worker = process.env.WORKER_URL ?? 'http://127.0.0.1:8787';
  console.log(`\nopen ${worker}/ in a browser and search for 'a red circle', or drop one of the images in ${dirname(written.manifest)}/images on the page`);
  console.log(`or:  curl '${worker}/v1/search?q=a%20red%20circle&k=10'   (each result's metadata has its caption and labels)`);
  console.log(`     each result's picture: ${worker}/v1/items/<id>/thumbnail`);
}
process.exit(code);
