// A model-family fixture's PyTorch outputs (references.json beside the exported model, written by
// embedder/model-gen/families/) and the check that loadClip reproduces them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { cosine } from './vectors.ts';

/** How close loadClip's embeddings must be to PyTorch's. */
export const PYTORCH_MIN_COSINE = 0.99999;

export interface PyTorchReferences {
  texts: { text: string; embedding: number[] }[];
  images: { file: string; embedding: number[] }[];
}

/** The fixture's references.json and the image files it names, as bytes. */
export function readReferences<R extends PyTorchReferences>(dir: string): { reference: R; images: Uint8Array[] } {
  const reference = JSON.parse(readFileSync(join(dir, 'references.json'), 'utf8')) as R;
  return { reference, images: reference.images.map((image) => new Uint8Array(readFileSync(join(dir, image.file)))) };
}

/** Each embedding at cosine ≥ PYTORCH_MIN_COSINE to PyTorch's, in order; `label` names a failing one. */
export function expectPyTorchEmbeddings<T extends { embedding: number[] }>(
  got: readonly Float32Array[],
  expected: readonly T[],
  label?: (entry: T) => string,
): void {
  expected.forEach((entry, i) => expect(cosine(got[i]!, entry.embedding), label?.(entry)).toBeGreaterThanOrEqual(PYTORCH_MIN_COSINE));
}
