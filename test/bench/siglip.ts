// The SigLIP rows of npm run bench:embedder: a random SigLIP ViT-B/16 at 224 (text width 768, 12
// layers, vocabulary 32,000) exported by PyTorch (embedder/model-gen/families/export_siglip.py, at
// bench time into models/), images/s and texts/s of loadClip against transformers.js on the same
// files. Standalone: node --import tsx test/bench/siglip.ts [model dir] (any SigLIP directory).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { loadClip } from '../../embedder/index.ts';
import { photoJpeg } from '../support/photo.ts';
import { cosine } from '../support/vectors.ts';
import { printTable } from './harness.ts';
import { measureThroughput, type Throughput, type Workload } from './siglip-throughput.ts';

export const SIGLIP_BENCH_MODEL = 'random-siglip-b16-hf';
const EXPORTER = 'embedder/model-gen/families/export_siglip.py';
const QUERIES = ['a photo of a dog', 'sunset over mountains', 'red shoes', 'a bowl of ramen', 'city at night', 'two cats on a sofa', 'a vintage car', 'snowy forest'];

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
  const work: Workload = { photos: photos.map((p) => new Uint8Array(p)), imageCalls: 4, texts: Array.from({ length: batch }, (_, i) => QUERIES[i % QUERIES.length]!), textCalls: 16, rounds };

  const clip = await loadClip(modelDir);
  const [[ourImage], [ourText]] = await Promise.all([clip.embedImages(work.photos.slice(0, 1)), clip.embedTexts(work.texts.slice(0, 1))]);
  const dir = mkdtempSync(join(tmpdir(), 'bench-siglip-'));
  const ours: Throughput = { imagesPerSecond: 0, textsPerSecond: 0 };
  let theirs: Throughput & { image: number[]; text: number[] } = { imagesPerSecond: 0, textsPerSecond: 0, image: [], text: [] };
  const best = (a: Throughput, b: Throughput) => ({ imagesPerSecond: Math.max(a.imagesPerSecond, b.imagesPerSecond), textsPerSecond: Math.max(a.textsPerSecond, b.textsPerSecond) });
  try {
    const files = photos.map((photo, i) => {
      const file = join(dir, `photo-${i}.jpg`);
      writeFileSync(file, photo);
      return file;
    });
    const workloadFile = join(dir, 'workload.json');
    writeFileSync(workloadFile, JSON.stringify({ ...work, photos: files, rounds: 1 }));
    const sides = [
      async () => Object.assign(ours, best(ours, await measureThroughput((images) => clip.embedImages(images), (texts) => clip.embedTexts(texts), { ...work, rounds: 1 }))),
      async () => {
        const output = execFileSync(process.execPath, ['--import', 'tsx', 'test/bench/transformers-siglip.ts', resolve(modelDir), workloadFile], { encoding: 'utf8' });
        const round = JSON.parse(output.trim().split('\n').at(-1)!) as typeof theirs;
        theirs = { ...round, ...best(theirs, round) };
      },
    ];
    // Interleaved rounds, best of each, the side that goes first alternating (the machine is shared).
    for (let round = 0; round < rounds; round++) for (const side of round % 2 ? sides.toReversed() : sides) await side();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await clip.close();
  }

  // transformers.js resizes with sharp, not Pillow: its image embedding is close to ours, not equal.
  const agreement = (a: ArrayLike<number>, b: ArrayLike<number>) => `cosine ${cosine(a, b).toFixed(5)} to transformers.js`;
  const name = basename(modelDir);
  return [
    {
      section,
      what: `${name} images/s (640×480 JPEGs; ${agreement(ourImage!, theirs.image)}), loadClip vs transformers.js`,
      batch,
      ours: ours.imagesPerSecond,
      reference: theirs.imagesPerSecond,
      ratio: ours.imagesPerSecond / theirs.imagesPerSecond,
    },
    {
      section,
      what: `${name} short texts/s (padded to 64; ${agreement(ourText!, theirs.text)}), loadClip vs transformers.js`,
      batch,
      ours: ours.textsPerSecond,
      reference: theirs.textsPerSecond,
      ratio: ours.textsPerSecond / theirs.textsPerSecond,
    },
  ];
}

if (import.meta.main) {
  printTable(await siglipRows(process.argv[2] ?? join(resolve('models'), SIGLIP_BENCH_MODEL)));
}
