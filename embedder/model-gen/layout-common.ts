/** What the layout writers share: the context they get, and ONNX model metadata. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ClipArch } from './arch.ts';
import type { GraphSpec } from './graph-builder.ts';
import { writeModelFile, type ModelSpec } from './onnx-writer.ts';

/** `hf-combined`: the hf layout with one CLIPModel graph (onnx/model.onnx) instead of the two tower files. */
export const LAYOUT_NAMES = ['hf', 'immich', 'hf-combined'] as const;
export type LayoutName = (typeof LAYOUT_NAMES)[number];
/** What `generate()` writes unless told otherwise (the CLI's `--layout both`). */
export const DEFAULT_LAYOUTS: readonly LayoutName[] = ['hf', 'immich'];

export function isLayoutName(value: string): value is LayoutName {
  return (LAYOUT_NAMES as readonly string[]).includes(value);
}

export interface LayoutContext {
  readonly arch: ClipArch;
  readonly seed: number;
  /** Directory the layout is written into (created if missing). */
  readonly dir: string;
  /** Tokenizer files by name (see tokenizer-files.ts). */
  readonly tokenizer: Readonly<Record<string, string>>;
  readonly onProgress?: ((message: string) => void) | undefined;
}

export interface WrittenFile {
  /** Path relative to the layout directory, with `/` separators. */
  readonly path: string;
  readonly bytes: number;
}

/** Which part of CLIP a graph holds, for the model's metadata: one tower, or both with the logits (CLIPModel). */
export type Component = 'text' | 'vision' | 'clip';

export const IR_VERSION = 7;
export const OPSET_VERSION = 14;
export const PRODUCER_NAME = 'crossmodal-search/model-gen';
export const PRODUCER_VERSION = '1';

/**
 * The config.json key that marks a generated model: its weights are random, so its embeddings
 * mean nothing. The embedder reads it to warn whoever searches with it (GET /v1/models' notice).
 */
export const RANDOM_WEIGHTS_KEY = 'crossmodal_random_weights';
export const RANDOM_WEIGHTS_NOTE = `random weights written by ${PRODUCER_NAME} (npm run model:tiny): not a trained model`;

export function modelSpec(graph: GraphSpec, context: LayoutContext, layout: LayoutName, component: Component): ModelSpec {
  return {
    graph,
    irVersion: IR_VERSION,
    opsetVersion: OPSET_VERSION,
    producerName: PRODUCER_NAME,
    producerVersion: PRODUCER_VERSION,
    docString: `Random-weight CLIP ${context.arch.name} ${component === 'clip' ? 'model (both towers and logits)' : `${component} tower`} (seed ${context.seed}), ${layout} layout. Not a trained model.`,
    metadata: { generator: PRODUCER_NAME, arch: context.arch.name, seed: String(context.seed), layout, component },
  };
}

export function writeModel(context: LayoutContext, relativePath: string, model: ModelSpec): WrittenFile {
  const path = join(context.dir, relativePath);
  mkdirSync(dirname(path), { recursive: true });
  const started = performance.now();
  const bytes = writeModelFile(path, model);
  context.onProgress?.(`${path}: ${(bytes / 2 ** 20).toFixed(1)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { path: relativePath, bytes };
}

export function writeText(context: LayoutContext, relativePath: string, content: string): WrittenFile {
  const path = join(context.dir, relativePath);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return { path: relativePath, bytes: Buffer.byteLength(content) };
}
