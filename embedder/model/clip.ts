// A loaded text-image embedding model (CLIP, SigLIP, SigLIP 2): tokenizer, image preprocessing and
// the two towers behind one interface, whatever the family (families/), the layout (layout.ts) or
// the execution provider.
import { readFileSync } from 'node:fs';
import { loadPreprocessConfig, preprocess, tensorShape, type DecodeReport, type PreprocessConfig, type PreprocessOptions } from '../image/index.ts';
import { openSession, type Provider, type RuntimeOptions } from '../runtime/execution-provider.ts';
import { probePixels, towerWithPooledRowEarly } from '../runtime/pooled-tower.ts';
import { ClipTower, type Modality, type PixelBatch } from '../runtime/tower.ts';
import type { TokenizedBatch } from '../text/index.ts';
import { detectFamily, type FamilyId } from './family.ts';
import { FAMILY_MODULES, type PooledRowRule } from './families/index.ts';
import { locateModelFiles, type Layout, type Variant } from './layout.ts';
import type { Scoring } from './scoring.ts';

export interface LoadClipOptions extends RuntimeOptions {
  variant?: Variant;
  /** Largest decoded image (width × height) accepted. */
  maxPixels?: number;
  /** 'exact' (default): Pillow's pixels bit for bit; 'fast': large JPEGs decoded at reduced scale. */
  decode?: 'exact' | 'fast';
  /** Told which decoder produced each image's pixels. */
  onImageDecoded?: (report: DecodeReport) => void;
  /** The decompression-ratio rule and the decode budget shared by every image (embedder/image/preprocess.ts). */
  decodeLimits?: Pick<PreprocessOptions, 'maxPixelsPerByte' | 'budget'>;
  /**
   * Rewrite each tower's graph so that the last block's row-wise steps run on the pooled token only
   * (runtime/pooled-rows.ts), where that reproduces the exported graph's embeddings. Default true.
   */
  pooledRowEarly?: boolean;
}

export interface Clip {
  readonly name: string;
  readonly family: FamilyId;
  readonly layout: Layout;
  readonly dim: number;
  /**
   * How cosine similarities become probabilities: CLIP's softmax at its temperature, SigLIP's sigmoid per
   * pair; unavailable (with the reason) for a SigLIP whose files hold neither its scale nor its bias.
   */
  readonly scoring: Scoring;
  /** Multiplier of cosine similarities (`scoring.scale`: CLIP's learned temperature, SigLIP's sigmoid scale); null where scoring is unavailable. */
  readonly logitScale: number | null;
  readonly provider: Provider;
  readonly imageSize: number;
  readonly contextLength: number;
  /** Which graph each tower runs: rewritten (and what it saves), or as exported and why. */
  readonly graphs: { readonly text: string; readonly vision: string };
  tokenize(texts: readonly string[]): TokenizedBatch;
  /** `decode` overrides the load option for this call. */
  preprocess(image: Uint8Array, decode?: 'exact' | 'fast'): Promise<Float32Array>;
  embedTexts(texts: readonly string[]): Promise<Float32Array[]>;
  embedImages(images: readonly Uint8Array[]): Promise<Float32Array[]>;
  /** Embeds already-preprocessed images (3 × imageSize × imageSize each). */
  embedPreprocessed(pixels: readonly Float32Array[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

function configuredDim(config: Record<string, unknown>): number | null {
  const value = config.projection_dim ?? config.embed_dim;
  return typeof value === 'number' ? value : null;
}

function rows(flat: Float32Array, count: number): Float32Array[] {
  const dim = flat.length / Math.max(count, 1);
  return Array.from({ length: count }, (_, i) => flat.subarray(i * dim, (i + 1) * dim));
}

export async function loadClip(modelDir: string, options: LoadClipOptions = {}): Promise<Clip> {
  const files = locateModelFiles(modelDir, options.variant ?? 'fp32');
  const config = readJson(files.config);
  const family = FAMILY_MODULES[detectFamily(files, config)];
  const scoring = family.scoring(config, files);
  const tokenizer = family.tokenizer(files, config);
  const imageConfig: PreprocessConfig = await loadPreprocessConfig(files.preprocessConfig);
  const shape = tensorShape(imageConfig);
  if (!shape || shape[1] !== shape[2]) throw new Error(`${files.preprocessConfig} must produce square images`);
  const imageSize = shape[1];

  const text = await openSession(files.textModel, options);
  const vision = files.combined ? text : await openSession(files.visionModel, { ...options, device: text.provider });
  const placeholders = { ids: [tokenizer.startId, tokenizer.endId].filter((id) => id !== null), imageSize };
  let textTower = new ClipTower(text.session, 'text', placeholders, family.outputs.text);
  let visionTower = new ClipTower(vision.session, 'vision', placeholders, family.outputs.vision);
  if (textTower.fixedLength !== null && textTower.fixedLength !== tokenizer.contextLength)
    throw new Error(`text model takes ${textTower.fixedLength} tokens but the tokenizer's context is ${tokenizer.contextLength}`);

  const dim = textTower.dim ?? visionTower.dim ?? configuredDim(config);
  if (dim === null) throw new Error(`cannot tell the embedding size of ${modelDir}`);
  const padTo = family.padTo(textTower.fixedLength === null);
  const tokenize = (texts: readonly string[]) => tokenizer.tokenize(texts, { padTo });

  // The pooled-row rewrite, where the family's pooling allows it (families/family-module.ts).
  const rewritten = (tower: ClipTower, rule: PooledRowRule, modelPath: string, provider: Provider, probe: (tower: ClipTower) => Promise<Float32Array>) =>
    'keep' in rule
      ? { tower, note: `${tower.modality} graph kept as exported (${rule.keep})` }
      : towerWithPooledRowEarly(tower, modelPath, provider, options, placeholders, probe, rule.gather);
  const graphs: Record<Modality, string> = { text: 'text graph kept as exported', vision: 'vision graph kept as exported' };
  if (!files.combined && options.pooledRowEarly !== false) {
    const probeTokens = { ...tokenize(['a photo of a cat', 'two dogs running through deep snow on a bright winter morning']), batch: 2 };
    ({ tower: textTower, note: graphs.text } = await rewritten(textTower, family.pooledRows.text, files.textModel, text.provider, (tower) =>
      tower.embedTokens(probeTokens),
    ));
    const batch = visionTower.fixedBatch ?? 2;
    const probeImages = { pixels: probePixels(batch, imageSize), batch, size: imageSize };
    ({ tower: visionTower, note: graphs.vision } = await rewritten(visionTower, family.pooledRows.vision, files.visionModel, vision.provider, (tower) =>
      tower.embedPixels(probeImages),
    ));
  }

  const embedPreprocessed = async (pixels: readonly Float32Array[]): Promise<Float32Array[]> => {
    const per = 3 * imageSize * imageSize;
    const batch: PixelBatch = { pixels: new Float32Array(pixels.length * per), batch: pixels.length, size: imageSize };
    pixels.forEach((p, i) => {
      if (p.length !== per) throw new RangeError(`preprocessed image ${i} has ${p.length} values, expected ${per}`);
      batch.pixels.set(p, i * per);
    });
    return rows(await visionTower.embedPixels(batch), pixels.length);
  };
  const preprocessImage = (image: Uint8Array, decode = options.decode ?? 'exact') =>
    preprocess(image, imageConfig, {
      decode,
      ...(options.maxPixels ? { maxPixels: options.maxPixels } : {}),
      ...(options.onImageDecoded ? { onDecoded: options.onImageDecoded } : {}),
      ...options.decodeLimits,
    });

  return {
    name: files.dir.split('/').filter(Boolean).at(-1) ?? files.dir,
    family: family.id,
    layout: files.layout,
    dim,
    scoring,
    logitScale: scoring.kind === 'unavailable' ? null : scoring.scale,
    provider: text.provider,
    imageSize,
    contextLength: tokenizer.contextLength,
    graphs,
    tokenize,
    preprocess: preprocessImage,
    async embedTexts(texts) {
      const tokens = tokenize(texts);
      return rows(await textTower.embedTokens({ ...tokens, batch: texts.length }), texts.length);
    },
    async embedImages(images) {
      return embedPreprocessed(await Promise.all(images.map((image) => preprocessImage(image))));
    },
    embedPreprocessed,
    async close() {
      await textTower.close();
      if (!files.combined) await visionTower.close();
    },
  };
}
