// The demo collection on disk: rendered images, a backfill manifest
// (manifest.jsonl: { id, path, metadata: { caption, labels, objects, background, split } }) and the
// full description of each item (items.jsonl: captions, labels, objects and,
// when a tokenizer is given, the CLIP token ids of each caption, which is what
// the training script reads).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClipTokenizer } from '../../embedder/text/index.ts';
import { sceneCaptions, sceneLabels } from './captions.ts';
import { Random } from './random.ts';
import { renderScene } from './render.ts';
import { sampleScene, type Scene, type Split } from './scene.ts';

export const DEFAULT_SIDE = 128;

export interface CollectionItem {
  id: string;
  split: Split;
  index: number;
  scene: Scene;
  /** The first caption names every object; the rest are paraphrases for training. */
  captions: string[];
  labels: string;
  jpeg: Buffer;
}

export interface ItemOptions {
  seed: number;
  split: Split;
  /** Image side in pixels. */
  side?: number;
  captionsPerItem?: number;
}

export async function collectionItem(index: number, options: ItemOptions): Promise<CollectionItem> {
  const { seed, split } = options;
  const scene = sampleScene(seed, split, index);
  const captions = sceneCaptions(new Random(seed, `captions/${split}/${index}`), scene, options.captionsPerItem ?? 1);
  const jpeg = await renderScene(scene, options.side ?? DEFAULT_SIDE, seed, `${split}/${index}`);
  return { id: `${split}-s${seed}-${String(index).padStart(5, '0')}`, split, index, scene, captions, labels: sceneLabels(scene), jpeg };
}

/** Items 0..count-1 of a split, rendered a few at a time, in order. */
export async function collectionItems(count: number, options: ItemOptions, concurrency = 4): Promise<CollectionItem[]> {
  const items: CollectionItem[] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) items[i] = await collectionItem(i, options);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return items;
}

export interface WriteOptions extends ItemOptions {
  count: number;
  outDir: string;
  /** Writes each caption's token ids (unpadded, start and end tokens included) into items.jsonl. */
  tokenizer?: ClipTokenizer;
}

export interface WrittenCollection {
  manifest: string;
  items: string;
  count: number;
}

export async function writeCollection(options: WriteOptions): Promise<WrittenCollection> {
  const { outDir, tokenizer } = options;
  mkdirSync(join(outDir, 'images'), { recursive: true });
  const items = await collectionItems(options.count, options);
  const manifest: string[] = [];
  const described: string[] = [];
  for (const item of items) {
    const path = `images/${item.id}.jpg`;
    writeFileSync(join(outDir, path), item.jpeg);
    manifest.push(JSON.stringify({ id: item.id, path, metadata: { caption: item.captions[0], labels: item.labels, objects: item.scene.objects.length, background: item.scene.background.kind, split: item.split } }));
    described.push(
      JSON.stringify({
        id: item.id,
        path,
        caption: item.captions[0],
        captions: item.captions,
        labels: item.labels,
        arrangement: item.scene.arrangement,
        background: item.scene.background.kind,
        objects: item.scene.objects.map(({ colour, shape, size, position }) => ({ colour, shape, size, position })),
        ...(tokenizer ? { tokenIds: item.captions.map((c) => tokenizer.encode(c)) } : {}),
      }),
    );
  }
  const written = { manifest: join(outDir, 'manifest.jsonl'), items: join(outDir, 'items.jsonl'), count: items.length };
  writeFileSync(written.manifest, `${manifest.join('\n')}\n`);
  writeFileSync(written.items, `${described.join('\n')}\n`);
  return written;
}
