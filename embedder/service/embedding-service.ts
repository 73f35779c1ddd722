// One served model behind two dynamic batching queues (texts, images). Images
// are decoded and preprocessed per request, outside the queue, so that work
// overlaps with inference of the batch in flight. Each model served has its
// own service: its own sessions, queues and metrics series.
import { DynamicBatcher, type DropReason } from '../batching/dynamic-batcher.ts';
import type { EmbedderConfig } from '../config.ts';
import type { Metrics } from '../http/metrics.ts';
import type { Clip } from '../model/clip.ts';

export interface ServedModelInfo {
  /** What clients name it by (`model`): its EMBEDDER_MODELS name, else the model directory's name. */
  name: string;
  /** What people should know before trusting its results (a demo or random-weight model). */
  notice?: string | undefined;
}

export class EmbeddingService {
  readonly name: string;
  readonly notice: string | undefined;
  private readonly texts: DynamicBatcher<string, Float32Array>;
  private readonly images: DynamicBatcher<Float32Array, Float32Array>;
  private warmedUp = false;

  constructor(
    readonly clip: Clip,
    config: EmbedderConfig['batching'],
    metrics: Metrics,
    info: ServedModelInfo = { name: clip.name },
  ) {
    this.name = info.name;
    this.notice = info.notice;
    const model = info.name;
    const hooks = (queue: string) => ({
      onBatch: (size: number, seconds: number) => {
        metrics.batchSize.observe({ queue, model }, size);
        metrics.batchSeconds.observe({ queue, model }, seconds);
      },
      onQueueDepth: (depth: number) => metrics.queueDepth.set({ queue, model }, depth),
      onDrop: (items: number, reason: DropReason) => metrics.droppedItems.inc({ queue, model, reason }, items),
    });
    const common = { maxWaitMs: config.waitMs, maxQueue: config.maxQueue, timeoutMs: config.timeoutMs };
    this.texts = new DynamicBatcher(`${model} text`, (t) => clip.embedTexts(t), { ...common, maxBatchSize: config.textBatch }, hooks('text'));
    this.images = new DynamicBatcher(`${model} image`, (p) => clip.embedPreprocessed(p), { ...common, maxBatchSize: config.imageBatch }, hooks('image'));
  }

  get ready(): boolean {
    return this.warmedUp;
  }

  embedTexts(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    return this.texts.submit(texts, signal);
  }

  /** Decoding counts against the request's timeout, and a request whose client left while its images decoded is not embedded. */
  async embedImages(images: Uint8Array[], signal?: AbortSignal): Promise<Float32Array[]> {
    const startedAt = performance.now();
    const pixels = await Promise.all(images.map((bytes) => this.clip.preprocess(bytes)));
    return this.images.submit(pixels, signal, startedAt);
  }

  /** Texts and images of one request, side by side: when either part fails, the other's items that have not reached the model are dropped. */
  async embedTextsAndImages(texts: string[], images: Uint8Array[], signal?: AbortSignal): Promise<[Float32Array[], Float32Array[]]> {
    const failed = new AbortController();
    const either = signal ? AbortSignal.any([signal, failed.signal]) : failed.signal;
    try {
      return await Promise.all([this.embedTexts(texts, either), this.embedImages(images, either)]);
    } catch (error) {
      failed.abort(error);
      throw error;
    }
  }

  /** One inference per tower, so the first request does not pay for graph initialisation. */
  async warmUp(): Promise<void> {
    await this.clip.embedTexts(['warm up']);
    const size = this.clip.imageSize;
    await this.clip.embedPreprocessed([new Float32Array(3 * size * size)]);
    this.warmedUp = true;
  }

  /** Finishes everything queued; new work is refused. */
  async drain(): Promise<void> {
    await Promise.all([this.texts.drain(), this.images.drain()]);
  }
}
