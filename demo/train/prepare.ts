// First step of `npm run demo:train`: the model directory's tokenizer files
// (CLIP's real vocabulary and merges, written by model-gen's tokenizer-file
// writer) and the training data (train, validation and heldout splits, with
// each caption's token ids from that tokenizer, which the Python trainer reads
// as they are, so that training and serving tokenize with the same code).
//
// tsx demo/train/prepare.ts [--vocab ../shared/clip-vocab] [--model demo/model] [--data .demo-data]
//   [--data-seed 1] [--train 8000] [--validation 800] [--heldout 400] [--captions 8]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { tokenizerFiles, type GeneratedVocabulary } from '../../embedder/model-gen/tokenizer-files.ts';
import { loadClipTokenizer } from '../../embedder/text/index.ts';
import { writeCollection } from '../collection/generate.ts';
import { ALL_LABELS, COLOUR_NAMES, SHAPE_NAMES } from '../collection/vocabulary.ts';
import { PROMPTS } from '../eval/metrics.ts';
import { DATA_SEED, DEMO_MODEL_DIR, SPLIT_COUNTS, TRAIN_CAPTIONS } from './settings.ts';
import type { Split } from '../collection/scene.ts';

const { values } = parseArgs({
  options: {
    vocab: { type: 'string', default: '../shared/clip-vocab' },
    model: { type: 'string', default: DEMO_MODEL_DIR },
    data: { type: 'string', default: '.demo-data' },
    'data-seed': { type: 'string', default: String(DATA_SEED) },
    train: { type: 'string', default: String(SPLIT_COUNTS.train) },
    validation: { type: 'string', default: String(SPLIT_COUNTS.validation) },
    heldout: { type: 'string', default: String(SPLIT_COUNTS.heldout) },
    captions: { type: 'string', default: String(TRAIN_CAPTIONS) },
  },
});

/** CLIP's vocabulary in id order and its merges in rank order, from the Hugging Face files. */
function clipVocabulary(dir: string): GeneratedVocabulary {
  const vocab = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as Record<string, number>;
  const tokens: string[] = [];
  for (const [token, id] of Object.entries(vocab)) tokens[id] = token;
  if (tokens.length !== Object.keys(vocab).length || tokens.some((t) => t === undefined)) throw new Error(`${dir}/vocab.json ids are not 0..n-1`);
  const lines = readFileSync(join(dir, 'merges.txt'), 'utf8').split('\n');
  if (!lines[0]?.startsWith('#version')) throw new Error(`${dir}/merges.txt lacks its #version header`);
  const merges = lines
    .slice(1)
    .filter((l) => l.length > 0)
    .map((l) => {
      const pair = l.split(' ');
      if (pair.length !== 2) throw new Error(`${dir}/merges.txt: bad merge line ${JSON.stringify(l)}`);
      return pair as [string, string];
    });
  return { tokens, merges };
}

function writeTokenizerFiles(vocabDir: string, modelDir: string): void {
  const files = tokenizerFiles(clipVocabulary(vocabDir));
  // The writer's JSON lists integer-like keys first (JavaScript's key order), so compare content, not bytes.
  for (const name of ['tokenizer.json', 'vocab.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
    if (!isDeepStrictEqual(JSON.parse(files[name]!), JSON.parse(readFileSync(join(vocabDir, name), 'utf8'))))
      throw new Error(`the written ${name} differs in content from ${vocabDir}/${name}`);
  }
  if (files['merges.txt'] !== readFileSync(join(vocabDir, 'merges.txt'), 'utf8')) throw new Error(`merges.txt differs from ${vocabDir}/merges.txt`);
  mkdirSync(modelDir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(modelDir, name), content);
}

const count = (name: string, text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${text}`);
  return n;
};

writeTokenizerFiles(values.vocab, values.model);
const tokenizer = loadClipTokenizer(values.model);
const seed = count('data-seed', values['data-seed']);
const splits: [Split, number, number][] = [
  ['train', count('train', values.train), count('captions', values.captions)],
  ['validation', count('validation', values.validation), 1],
  ['heldout', count('heldout', values.heldout), 1],
];
for (const [split, n, captionsPerItem] of splits) {
  const started = Date.now();
  await writeCollection({ split, seed, count: n, captionsPerItem, outDir: join(values.data, split), tokenizer });
  console.log(`${split}: ${n} items in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
// The zero-shot prompts of demo:eval, tokenized here like the captions, for the trainer's own progress metrics.
const tokenized = (names: readonly string[], prompts: readonly string[]) => Object.fromEntries(names.map((name, i) => [name, tokenizer.encode(prompts[i]!)]));
const prompts = {
  colour: tokenized(COLOUR_NAMES, PROMPTS.colour),
  shape: tokenized(SHAPE_NAMES, PROMPTS.shape),
  colour_shape: tokenized(ALL_LABELS, PROMPTS.colourShape),
};
writeFileSync(join(values.data, 'prompts.json'), `${JSON.stringify(prompts)}\n`);
writeFileSync(join(values.data, 'settings.json'), `${JSON.stringify({ dataSeed: seed, counts: Object.fromEntries(splits.map(([s, n]) => [s, n])) }, null, 2)}\n`);
