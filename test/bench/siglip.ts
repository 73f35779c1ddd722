// The SigLIP rows of npm run bench:embedder: a random SigLIP ViT-B/16 at 224 (text width 768, 12
// layers, vocabulary 32,000) exported by PyTorch (embedder/model-gen/families/export_siglip.py, at
// bench time into models/), images/s and texts/s of loadClip against transformers.js on the same
// files (transformers.js in a process of its own: transformers-process.ts). Standalone: node --import tsx test/bench/siglip.ts [model dir] (any SigLIP directory).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadClip } from '../../embedder/index.ts';
import { photoJpeg } from '../support/photo.ts';
import { cosine } from '../support/vectors.ts';
import { printTable } from './harness.ts';
import { interleave, perSecond } from './throughput.ts';
import { startTransformers } from './transformers-process.ts';

export const SIGLIP_BENCH_MODEL = 'random-siglip-b16-hf';
const EXPORTER = 'embedder/model-gen/families/export_siglip.py';
const QUERIES = ['a photo of a dog', 'sunset over mountains', 'red shoes', 'a bowl of ramen', 'city at night', 'two cats on a sofa', 'a vintage car', 'snowy forest'];

// Calls timed per round, each of one batch.
const IMAGE_CALLS = 4;
const TEXT_CALLS = 16;

type Row = Record<string, string | number>;

/** Why the model cannot be exported here, or null when it can. */
function torchMissing(): string | null {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch, onnx'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'not measured: exporting the model needs /usr/bin/python3 with torch and onnx, absent here';
  }
}

export async function siglipRows(modelDir: string, { batch = 16, rounds = 2 } = {}): Promise<Row[]> {
  const section = 'SigLIP end to end';
  if (!existsSync(join(modelDir, 'onnx/vision_model.onnx'))) {
    const missing = torchMissing();
    if (missing) return [{ section, what: `${basename(modelDir)} (SigLIP ViT-B/16) ${missing}`, batch, ours: '-', reference: '-', ratio: '-' }];
    console.log(`exporting ${modelDir} (random weights, SigLIP ViT-B/16 shapes)...`);
    execFileSync('nice', ['/usr/bin/python3', EXPORTER, '--family', 'siglip', '--size', 'base', '--out', modelDir], { stdio: 'inherit' });
  }
  const photos = await Promise.all(Array.from({ length: batch }, (_, i) => photoJpeg(640, 480, { seed: 70 + i })));
  const texts = Array.from({ length: batch }, (_, i) => QUERIES[i % QUERIES.length]!);

  const clip = await loadClip(modelDir);
  const reference = await startTransformers(modelDir);
  try {
    // The first photo's and text's embeddings on each side: both compute the same model.
    const [ourImage] = await clip.embedImages(photos.slice(0, 1));
    const [ourText] = await clip.embedTexts(texts.slice(0, 1));
    const [theirImage] = await reference.embedImages(photos.slice(0, 1));
    const [theirText] = await reference.embedTexts(texts.slice(0, 1));
    // Images and texts in separate phases, as in the CLIP rows.
    const images = await interleave(rounds, {
      ours: () => perSecond(batch, IMAGE_CALLS, () => clip.embedImages(photos)),
      theirs: () => reference.imagesPerSecond(photos, IMAGE_CALLS),
    });
    const shortTexts = await interleave(rounds, {
      ours: () => perSecond(batch, TEXT_CALLS, () => clip.embedTexts(texts)),
      theirs: () => reference.textsPerSecond(texts, TEXT_CALLS),
    });
    // transformers.js resizes with sharp, not Pillow: its image embedding is close to ours, not equal.
    const agreement = (a: ArrayLike<number>, b: ArrayLike<number>) => `cosine ${cosine(a, b).toFixed(5)} to transformers.js`;
    const name = basename(modelDir);
    return [
      {
        section,
        what: `${name} images/s (640×480 JPEGs; ${agreement(ourImage!, theirImage!)}), loadClip vs transformers.js`,
        batch,
        ours: images.ours,
        reference: images.theirs,
        ratio: images.ours / images.theirs,
      },
      {
        section,
        what: `${name} short texts/s (padded to 64; ${agreement(ourText!, theirText!)}), loadClip vs transformers.js`,
        batch,
        ours: shortTexts.ours,
        reference: shortTexts.theirs,
        ratio: shortTexts.ours / shortTexts.theirs,
      },
    ];
  } finally {
    await reference.close();
    await clip.close();
  }
}

if (import.meta.main) {
  printTable(await siglipRows(process.argv[2] ?? join(resolve('models'), SIGLIP_BENCH_MODEL)));
}
