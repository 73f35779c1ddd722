// npm run demo:eval [-- --model demo/model] [--write]
//
// Measures the demo model through the serving path (loadClip: the project's
// tokenizer, image preprocessing and ONNX Runtime) on the validation and
// held-out splits, regenerated from the data seed. First checks that the served
// model reproduces the embeddings PyTorch computed at export. --write records
// the metrics, the files' SHA-256 sums and the training settings in the
// model's manifest.json.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { loadClip, type Clip } from '../../embedder/index.ts';
import { collectionItems, type CollectionItem } from '../collection/generate.ts';
import { DATA_SEED, DEMO_MODEL_DIR, SPLIT_COUNTS } from '../train/settings.ts';
import { dot, PROMPTS, splitMetrics, type SplitMetrics } from './metrics.ts';

const { values } = parseArgs({ options: { model: { type: 'string', default: DEMO_MODEL_DIR }, write: { type: 'boolean', default: false } } });
const modelDir = values.model;

interface Reference {
  id: string;
  text?: string;
  embedding: number[];
}
interface Training {
  command: string;
  seed: number;
  data?: { dataSeed: number; counts: Record<string, number> };
  settings: Record<string, unknown>;
  history: Record<string, unknown>[];
  seconds: number;
  logit_scale: number;
  architecture: Record<string, unknown>;
  reference_embeddings: { texts: Reference[]; images: Reference[] };
}
const training = JSON.parse(readFileSync(join(modelDir, 'training.json'), 'utf8')) as Training;
const dataSeed = training.data?.dataSeed ?? DATA_SEED;

async function embedInBatches(count: number, embed: (start: number, end: number) => Promise<Float32Array[]>, batch = 64): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let start = 0; start < count; start += batch) out.push(...(await embed(start, Math.min(count, start + batch))));
  return out;
}

/** The served model must give the embeddings PyTorch gave for the same captions and images. */
async function checkReferences(clip: Clip, validation: readonly CollectionItem[]): Promise<number> {
  const { texts, images } = training.reference_embeddings;
  const served = await clip.embedTexts(texts.map((t) => t.text!));
  const byId = new Map(validation.map((item) => [item.id, item]));
  const servedImages = await clip.embedImages(
    images.map((r) => {
      const item = byId.get(r.id);
      if (!item) throw new Error(`reference image ${r.id} is not in the regenerated validation split`);
      return item.jpeg;
    }),
  );
  const cosines = [...texts.map((r, i) => dot(served[i]!, Float32Array.from(r.embedding))), ...images.map((r, i) => dot(servedImages[i]!, Float32Array.from(r.embedding)))];
  const worst = Math.min(...cosines);
  if (worst < 0.9999) throw new Error(`the served model differs from PyTorch's: worst cosine ${worst} (texts and images of training.json)`);
  return worst;
}

async function measure(clip: Clip, items: readonly CollectionItem[]): Promise<SplitMetrics> {
  const images = await embedInBatches(items.length, (s, e) => clip.embedImages(items.slice(s, e).map((i) => i.jpeg)));
  const captions = await embedInBatches(items.length, (s, e) => clip.embedTexts(items.slice(s, e).map((i) => i.captions[0]!)));
  const prompts = {
    colour: await clip.embedTexts(PROMPTS.colour),
    shape: await clip.embedTexts(PROMPTS.shape),
    colourShape: await clip.embedTexts(PROMPTS.colourShape),
  };
  return splitMetrics(items, images, captions, prompts);
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function modelFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => statSync(join(dir, p)).isFile() && p !== 'manifest.json')
    .sort();
}

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

const started = Date.now();
const clip = await loadClip(modelDir, { device: 'cpu' });
const validation = await collectionItems(SPLIT_COUNTS.validation, { seed: dataSeed, split: 'validation' });
const heldout = await collectionItems(SPLIT_COUNTS.heldout, { seed: dataSeed, split: 'heldout' });
const worstCosine = await checkReferences(clip, validation);
const metrics = { validation: await measure(clip, validation), heldout: await measure(clip, heldout) };
await clip.close();

const rows: [string, keyof SplitMetrics][] = [
  ['zero-shot colour (10)', 'zeroShotColour'],
  ['zero-shot shape (8)', 'zeroShotShape'],
  ['zero-shot colour+shape (80), one-object images', 'zeroShotColourShapeSingle'],
  ['zero-shot colour+shape (80), two-object images: one of the two', 'zeroShotColourShapePair'],
  ['text→image recall@1 (same objects)', 'recallAt1'],
  ['text→image recall@5 (same objects)', 'recallAt5'],
  ['text→image recall@1 (its own image)', 'exactRecallAt1'],
  ['text→image recall@5 (its own image)', 'exactRecallAt5'],
];
console.log(`served model ${modelDir}: PyTorch's reference embeddings reproduced (worst cosine ${worstCosine.toFixed(6)})\n`);
console.log(`| metric | validation (${metrics.validation.items}) | held-out combinations (${metrics.heldout.items}) |`);
console.log('|---|---|---|');
for (const [name, key] of rows) console.log(`| ${name} | ${percent(metrics.validation[key])} | ${percent(metrics.heldout[key])} |`);
console.log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);

if (values.write) {
  const files = modelFiles(modelDir).map((path) => ({ path, bytes: statSync(join(modelDir, path)).size, sha256: sha256(join(modelDir, path)) }));
  const manifest = {
    name: 'crossmodal-demo-clip',
    description: 'A small CLIP trained by this project on the synthetic shapes of demo/collection: good for trying the system, not for photos.',
    files,
    totalBytes: files.reduce((sum, f) => sum + f.bytes, 0),
    training: {
      command: 'npm run demo:train',
      trainer: training.command,
      seed: training.seed,
      dataSeed,
      counts: training.data?.counts ?? SPLIT_COUNTS,
      seconds: training.seconds,
      logitScale: Math.exp(training.logit_scale),
      architecture: training.architecture,
    },
    metrics: { measuredWith: 'npm run demo:eval (loadClip, onnxruntime-node on the CPU)', worstReferenceCosine: worstCosine, ...metrics },
  };
  writeFileSync(join(modelDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`wrote ${relative('.', join(modelDir, 'manifest.json'))}`);
}
