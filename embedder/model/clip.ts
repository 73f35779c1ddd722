// A loaded CLIP model: tokenizer, image preprocessing and the two towers
// behind one interface, whatever the layout or the execution provider.
import { readFileSync } from 'node:fs';
import { loadPreprocessConfig, preprocess, tensorShape, type DecodeReport, type PreprocessConfig, type PreprocessOptions } from '../image/index.ts';
import { openSession, type Provider, type RuntimeOptions } from '../runtime/execution-provider.ts';
import { probePixels, towerWithPooledRowEarly } from '../runtime/pooled-tower.ts';
import { ClipTower, type PixelBatch } from '../runtime/tower.ts';
import { loadClipTokenizer, type ClipTokenizer, type TokenizedBatch } from '../text/index.ts';
import { locateModelFiles, type Layout, type Variant } from './layout.ts';

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
  readonly layout: Layout;
  readonly dim: number;
  /** Multiplier of cosine similarities before a softmax (CLIP's learned temperature). */
  readonly logitScale: number;
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

// OpenAI's CLIP models end training with the logit scale at its clamp,
// exp(4.6052) = 100; split ONNX graphs do not carry it, so configs that
// state a learned value override this.
const CLIP_LOGIT_SCALE = 100;

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

function configuredDim(config: Record<string, unknown>): number | null {
  const value = config.projection_dim ?? config.embed_dim;
  return typeof value === 'number' ? value : null;
}

function configuredLogitScale(config: Record<string, unknown>): number {
  return typeof config.logit_scale === 'number' ? Math.exp(config.logit_scale) : CLIP_LOGIT_SCALE;
}

function rows(flat: Float32Array, count: number): Float32Array[] {
  const dim = flat.length / Math.max(count, 1);
  return Array.from({ length: count }, (_, i) => flat.subarray(i * dim, (i + 1) * dim));
}

export async function loadClip(modelDir: string, options: LoadClipOptions = {}): Promise<Clip> {
  const files = locateModelFiles(modelDir, options.variant ?? 'fp32');
  const config = readJson(files.config);
  const tokenizer: ClipTokenizer = loadClipTokenizer(files.tokenizer, { modelConfig: config });
  const imageConfig: PreprocessConfig = await loadPreprocessConfig(files.preprocessConfig);
  const shape = tensorShape(imageConfig);
  if (!shape || shape[1] !== shape[2]) throw new Error(`${files.preprocessConfig} must produce square images`);
  const imageSize = shape[1];

  const text = await openSession(files.textModel, options);
  const vision = files.combined ? text : await openSession(files.visionModel, { ...options, device: text.provider });
  const placeholders = { ids: [tokenizer.sotId, tokenizer.eotId], imageSize };
  let textTower = new ClipTower(text.session, 'text', placeholders);
  let visionTower = new ClipTower(vision.session, 'vision', placeholders);
  if (textTower.fixedLength !== null && textTower.fixedLength !== tokenizer.contextLength)
    throw new Error(`text model takes ${textTower.fixedLength} tokens but the tokenizer's context is ${tokenizer.contextLength}`);

  const dim = textTower.dim ?? visionTower.dim ?? configuredDim(config);
  if (dim === null) throw new Error(`cannot tell the embedding size of ${modelDir}`);
  // Causal mask + end-token pooling make padding past the end token inert, so a
  // dynamic sequence axis lets a batch be padded to its longest text, not to 77.
  const padTo = textTower.fixedLength === null ? 'longest' : 'context';
  const tokenize = (texts: readonly string[]) => tokenizer.tokenize(texts, { padTo });

  const graphs = { text: 'text graph kept as exported', vision: 'vision graph kept as exported' };
  if (!files.combined && options.pooledRowEarly !== false) {
    const probeTokens = { ...tokenize(['a photo of a cat', 'two dogs running through deep snow on a bright winter morning']), batch: 2 };
    ({ tower: textTower, note: graphs.text } = await towerWithPooledRowEarly(textTower, files.textModel, text.provider, options, placeholders, (tower) =>
      tower.embedTokens(probeTokens),
    ));
    const batch = visionTower.fixedBatch ?? 2;
    const probeImages = { pixels: probePixels(batch, imageSize), batch, size: imageSize };
    ({ tower: visionTower, note: graphs.vision } = await towerWithPooledRowEarly(visionTower, files.visionModel, vision.provider, options, placeholders, (tower) =>
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
    layout: files.layout,
    dim,
    logitScale: configuredLogitScale(config),
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
