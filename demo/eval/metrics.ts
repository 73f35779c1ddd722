// Retrieval and zero-shot metrics over unit-norm embeddings (cosine = dot product).
import { labelPrompt } from '../collection/captions.ts';
import type { CollectionItem } from '../collection/generate.ts';
import { ALL_LABELS, COLOUR_NAMES, SHAPE_NAMES, type Colour, type Shape } from '../collection/vocabulary.ts';

export const dot = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** Indices of `gallery` by decreasing similarity to `query`, the first k of them. */
export function topK(query: Float32Array, gallery: readonly Float32Array[], k: number): number[] {
  return gallery
    .map((g, i) => [dot(query, g), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

const argmax = (query: Float32Array, options: readonly Float32Array[]): number => topK(query, options, 1)[0]!;

/** The zero-shot prompts: "a red shape" for colours, "a circle" for shapes, "a red circle" for pairs. */
export const PROMPTS = {
  colour: COLOUR_NAMES.map((c) => labelPrompt(`${c} shape`)),
  shape: SHAPE_NAMES.map((s) => labelPrompt(s)),
  colourShape: ALL_LABELS.map((l) => labelPrompt(l)),
};

export interface PromptEmbeddings {
  colour: Float32Array[];
  shape: Float32Array[];
  colourShape: Float32Array[];
}

export interface SplitMetrics {
  items: number;
  /** Top colour among the 10 is one of the image's colours. */
  zeroShotColour: number;
  /** Top shape among the 8 is one of the image's shapes. */
  zeroShotShape: number;
  /** One-object images: the top "colour shape" label among the 80 is the image's. */
  zeroShotColourShapeSingle: number;
  /** Two-object images: the top label among the 80 is one of the image's two. */
  zeroShotColourShapePair: number;
  /** Text→image, the caption against every image of the split: an image with the caption's objects in the top k. */
  recallAt1: number;
  recallAt5: number;
  /** Text→image: the caption's own image in the top k (strict; many images share a caption's objects). */
  exactRecallAt1: number;
  exactRecallAt5: number;
}

const objectsKey = (item: CollectionItem) => item.labels.split(', ').sort().join(', ');
const mean = (values: readonly boolean[]) => (values.length ? values.filter(Boolean).length / values.length : Number.NaN);

export function splitMetrics(items: readonly CollectionItem[], images: readonly Float32Array[], captions: readonly Float32Array[], prompts: PromptEmbeddings): SplitMetrics {
  const colours = items.map((item) => new Set<Colour>(item.scene.objects.map((o) => o.colour)));
  const shapes = items.map((item) => new Set<Shape>(item.scene.objects.map((o) => o.shape)));
  const labels = items.map((item) => new Set(item.labels.split(', ')));
  const colourShape = images.map((image) => ALL_LABELS[argmax(image, prompts.colourShape)]!);
  const single = items.map((item) => item.scene.objects.length === 1);
  const keys = items.map(objectsKey);
  const top5 = captions.map((caption) => topK(caption, images, 5));
  return {
    items: items.length,
    zeroShotColour: mean(images.map((image, i) => colours[i]!.has(COLOUR_NAMES[argmax(image, prompts.colour)]!))),
    zeroShotShape: mean(images.map((image, i) => shapes[i]!.has(SHAPE_NAMES[argmax(image, prompts.shape)]!))),
    zeroShotColourShapeSingle: mean(colourShape.flatMap((label, i) => (single[i] ? [labels[i]!.has(label)] : []))),
    zeroShotColourShapePair: mean(colourShape.flatMap((label, i) => (single[i] ? [] : [labels[i]!.has(label)]))),
    recallAt1: mean(top5.map((top, q) => top.slice(0, 1).some((j) => keys[j] === keys[q]))),
    recallAt5: mean(top5.map((top, q) => top.some((j) => keys[j] === keys[q]))),
    exactRecallAt1: mean(top5.map((top, q) => top[0] === q)),
    exactRecallAt5: mean(top5.map((top, q) => top.includes(q))),
  };
}
