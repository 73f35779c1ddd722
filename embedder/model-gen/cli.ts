/**
 * npm run model:tiny -- [--arch tiny|vit-b-32] [--seed N] [--out DIR] [--layout hf|immich|hf-combined|both]
 *
 * Writes a random-weight CLIP as ONNX files in the published layouts, to
 * <DIR>/<arch>-hf/ and/or <DIR>/<arch>-immich/ (or <DIR>/<arch>-hf-combined/).
 */
import { parseArgs } from 'node:util';
import { ARCH_NAMES, DEFAULT_LAYOUTS, DEFAULT_SEED, generate, isArchName, isLayoutName, LAYOUT_NAMES, type LayoutName } from './generate.ts';

const USAGE = `usage: model:tiny [--arch ${ARCH_NAMES.join('|')}] [--seed N] [--out DIR] [--layout ${LAYOUT_NAMES.join('|')}|both]
  --arch    tiny (default; 64-wide, 2 layers, the shapes of the tiny test fixtures)
            vit-b-32 (the shapes of openai/clip-vit-base-patch32, ~600 MB)
  --seed    unsigned 32-bit integer (default ${DEFAULT_SEED}); the same seed gives identical files
  --out     parent directory (default models/); writes <out>/<arch>-hf and <out>/<arch>-immich
  --layout  hf (text_model.onnx + vision_model.onnx), immich, hf-combined (one onnx/model.onnx,
            to <out>/<arch>-hf-combined), or both (default: hf and immich)`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function main(): void {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        arch: { type: 'string', default: 'tiny' },
        seed: { type: 'string', default: String(DEFAULT_SEED) },
        out: { type: 'string', default: 'models' },
        layout: { type: 'string', default: 'both' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!isArchName(values.arch)) fail(`unknown --arch ${values.arch}`);
  if (!/^\d+$/.test(values.seed) || Number(values.seed) > 0xffffffff) fail(`--seed must be an integer in [0, 2^32), got ${values.seed}`);
  const layouts: LayoutName[] =
    values.layout === 'both' ? [...DEFAULT_LAYOUTS] : isLayoutName(values.layout) ? [values.layout] : fail(`unknown --layout ${values.layout}`);

  const started = performance.now();
  const results = generate({
    arch: values.arch,
    seed: Number(values.seed),
    outDir: values.out,
    layouts,
    onProgress: (message) => console.log(`  ${message}`),
  });
  for (const result of results) {
    const total = result.files.reduce((n, f) => n + f.bytes, 0);
    console.log(`${result.layout}: ${result.dir} (${result.files.length} files, ${(total / 2 ** 20).toFixed(1)} MiB)`);
  }
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main();
