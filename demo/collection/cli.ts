// tsx demo/collection/cli.ts --split train --count 8000 --seed 1 --out .demo-data/train [--captions 8] [--tokenizer <tokenizer.json or model dir>] [--side 128]
import { parseArgs } from 'node:util';
import { loadClipTokenizer } from '../../embedder/text/index.ts';
import { DEFAULT_SIDE, writeCollection } from './generate.ts';
import { SPLITS, type Split } from './scene.ts';

const { values } = parseArgs({
  options: {
    split: { type: 'string', default: 'demo' },
    count: { type: 'string', default: '300' },
    seed: { type: 'string', default: '2' },
    out: { type: 'string' },
    captions: { type: 'string', default: '1' },
    side: { type: 'string', default: String(DEFAULT_SIDE) },
    tokenizer: { type: 'string' },
  },
});

function positiveInt(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer, got ${text}`);
  return value;
}

const split = values.split as Split;
if (!SPLITS.includes(split)) throw new Error(`--split must be one of ${SPLITS.join(', ')}`);
const outDir = values.out ?? `.demo-data/${split}`;
const started = Date.now();
const written = await writeCollection({
  split,
  seed: positiveInt('seed', values.seed),
  count: positiveInt('count', values.count),
  side: positiveInt('side', values.side),
  captionsPerItem: Math.max(1, positiveInt('captions', values.captions)),
  outDir,
  ...(values.tokenizer ? { tokenizer: loadClipTokenizer(values.tokenizer) } : {}),
});
console.log(`${written.count} ${split} items in ${outDir} (${((Date.now() - started) / 1000).toFixed(1)} s): ${written.manifest}, ${written.items}`);
