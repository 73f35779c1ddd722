/** CLIP architectures the generator can write. */

export interface TextArch {
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly width: number;
  readonly heads: number;
  readonly layers: number;
  readonly mlpWidth: number;
}

export interface VisionArch {
  readonly imageSize: number;
  readonly patchSize: number;
  readonly width: number;
  readonly heads: number;
  readonly layers: number;
  readonly mlpWidth: number;
}

export interface ClipArch {
  readonly name: ArchName;
  /** Joint embedding size (HF `projection_dim`, OpenCLIP `embed_dim`). */
  readonly embedDim: number;
  readonly text: TextArch;
  readonly vision: VisionArch;
  /** LayerNorm epsilon (CLIP: 1e-5). */
  readonly layerNormEps: number;
}

export const ARCH_NAMES = ['tiny', 'vit-b-32'] as const;
export type ArchName = (typeof ARCH_NAMES)[number];

/** CLIP's BPE vocabulary size: 256 bytes, 256 bytes + `</w>`, 48,894 merges, 2 specials. */
export const CLIP_VOCAB_SIZE = 49408;
export const CLIP_CONTEXT_LENGTH = 77;

export const ARCHS: Readonly<Record<ArchName, ClipArch>> = {
  // The same shapes as the PyTorch-exported tiny fixtures.
  tiny: {
    name: 'tiny',
    embedDim: 32,
    text: { vocabSize: CLIP_VOCAB_SIZE, contextLength: CLIP_CONTEXT_LENGTH, width: 64, heads: 2, layers: 2, mlpWidth: 256 },
    vision: { imageSize: 224, patchSize: 32, width: 64, heads: 2, layers: 2, mlpWidth: 256 },
    layerNormEps: 1e-5,
  },
  // openai/clip-vit-base-patch32 (OpenCLIP ViT-B-32).
  'vit-b-32': {
    name: 'vit-b-32',
    embedDim: 512,
    text: { vocabSize: CLIP_VOCAB_SIZE, contextLength: CLIP_CONTEXT_LENGTH, width: 512, heads: 8, layers: 12, mlpWidth: 2048 },
    vision: { imageSize: 224, patchSize: 32, width: 768, heads: 12, layers: 12, mlpWidth: 3072 },
    layerNormEps: 1e-5,
  },
};

export function isArchName(value: string): value is ArchName {
  return (ARCH_NAMES as readonly string[]).includes(value);
}
