/**
 * Library entry point: writes a random-weight CLIP, deterministically from a
 * seed, in the Hugging Face (split or combined) and/or OpenCLIP-Immich
 * layouts. The same seed gives byte-identical files, and all layouts hold the
 * same weights (HF's embeddings, L2-normalised, equal Immich's and the
 * combined model's).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ARCHS, type ArchName } from './arch.ts';
import { DEFAULT_LAYOUTS, type LayoutContext, type LayoutName, type WrittenFile } from './layout-common.ts';
import { writeHfCombinedLayout, writeHfLayout } from './layout-hf.ts';
import { writeImmichLayout } from './layout-immich.ts';
import { generateVocabulary, tokenizerFiles } from './tokenizer-files.ts';

export { ARCH_NAMES, ARCHS, isArchName, type ArchName, type ClipArch } from './arch.ts';
export { DEFAULT_LAYOUTS, isLayoutName, LAYOUT_NAMES, type LayoutName, type WrittenFile } from './layout-common.ts';
export { HF_COMBINED_MODEL, HF_LOGIT_SCALE, HF_TEXT_MODEL, HF_VISION_MODEL } from './layout-hf.ts';
export { IMMICH_TEXT_MODEL, IMMICH_VISION_MODEL } from './layout-immich.ts';

export const DEFAULT_SEED = 0;

export interface GenerateOptions {
  readonly arch: ArchName;
  /** Unsigned 32-bit seed (default 0). */
  readonly seed?: number;
  /** Parent directory; each layout goes to `<outDir>/<arch>-<layout>/` (default `models`). */
  readonly outDir?: string;
  /** Default: `hf` and `immich` (DEFAULT_LAYOUTS); `hf-combined` only when asked for. */
  readonly layouts?: readonly LayoutName[];
  readonly onProgress?: (message: string) => void;
}

export interface GeneratedLayout {
  readonly layout: LayoutName;
  /** Absolute path of the layout directory. */
  readonly dir: string;
  readonly files: readonly WrittenFile[];
}

const WRITERS: Record<LayoutName, (context: LayoutContext) => WrittenFile[]> = {
  hf: writeHfLayout,
  immich: writeImmichLayout,
  'hf-combined': writeHfCombinedLayout,
};

// The full-size model is named so it cannot be mistaken for real CLIP weights.
export function layoutDirName(arch: ArchName, layout: LayoutName): string {
  return arch === 'tiny' ? `tiny-${layout}` : `random-${arch}-${layout}`;
}

export function generate(options: GenerateOptions): GeneratedLayout[] {
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`seed must be an integer in [0, 2^32), got ${seed}`);
  }
  const arch = ARCHS[options.arch];
  const layouts = options.layouts ?? DEFAULT_LAYOUTS;
  const outDir = resolve(options.outDir ?? 'models');
  const tokenizer = tokenizerFiles(generateVocabulary(arch.text.vocabSize));
  return [...new Set(layouts)].map((layout) => {
    const dir = join(outDir, layoutDirName(arch.name, layout));
    mkdirSync(dir, { recursive: true });
    const context: LayoutContext = { arch, seed, dir, tokenizer, onProgress: options.onProgress };
    const files = WRITERS[layout](context);
    return { layout, dir, files };
  });
}
