// npm run model:fetch -- <owner/name> [--variant fp32|fp16|quantized] [--revision REV] [--out DIR]
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import type { DownloadProgress } from './download.ts';
import { fetchModel } from './fetch-model.ts';
import type { Variant } from './select-files.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    variant: { type: 'string', default: 'fp32' },
    revision: { type: 'string', default: 'main' },
    out: { type: 'string' },
  },
});
const repo = positionals[0];
if (!repo || !['fp32', 'fp16', 'quantized'].includes(values.variant)) {
  console.error('usage: npm run model:fetch -- <owner/name> [--variant fp32|fp16|quantized] [--revision REV] [--out DIR]');
  process.exit(2);
}

const bars = new cliProgress.MultiBar(
  { format: '{file} |{bar}| {percentage}% {value}/{total} bytes', hideCursor: true, clearOnComplete: false },
  cliProgress.Presets.shades_classic,
);
const active = new Map<string, cliProgress.SingleBar>();
const progress: DownloadProgress = {
  start: (file, have) => active.set(file.path, bars.create(file.size, have, { file: file.path })),
  advance: (file, bytes) => active.get(file.path)?.increment(bytes),
  finish: (file) => active.get(file.path)?.update(file.size),
};

try {
  const result = await fetchModel({
    repo,
    variant: values.variant as Variant,
    revision: values.revision,
    ...(values.out ? { outDir: values.out } : {}),
    ...(process.env.HF_TOKEN ? { token: process.env.HF_TOKEN } : {}),
    progress,
  });
  bars.stop();
  console.log(`${result.layout} layout model in ${result.dir} (${result.downloaded.length} downloaded, ${result.cached.length} already present and verified)`);
  console.log(`start the embedder with: MODEL_DIR=${result.dir} npm run embedder`);
} catch (error) {
  bars.stop();
  console.error(`model:fetch failed: ${(error as Error).message}`);
  process.exit(1);
}
