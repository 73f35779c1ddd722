// Loads the configured models one after another, each into its own sessions,
// logging what each costs in memory: the process's RSS before and after its
// load, and the sizes of its ONNX files. A model that cannot be loaded fails
// the start with a message naming it.
import { existsSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import type { EmbedderConfig, ModelSource } from '../config.ts';
import type { Metrics } from '../http/metrics.ts';
import type { DecodeBudget } from '../image/index.ts';
import { loadClip, type Clip } from '../model/clip.ts';
import { locateModelFiles } from '../model/layout.ts';
import { defaultModelDir, fetchModel } from '../model-fetch/fetch-model.ts';
import { EmbeddingService } from './embedding-service.ts';
import { ModelSet } from './model-set.ts';
import { modelNotice } from './model-notice.ts';

const MiB = 1024 * 1024;
const mebibytes = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;

async function modelDir(source: ModelSource, config: EmbedderConfig, log: Logger): Promise<string> {
  if ('dir' in source) return source.dir;
  const dir = defaultModelDir(source.repo);
  if (!existsSync(dir)) {
    log.info({ model: source.repo, dir }, 'downloading model');
    await fetchModel({ repo: source.repo, variant: config.variant, outDir: dir, ...(process.env.HF_TOKEN ? { token: process.env.HF_TOKEN } : {}) });
  }
  return dir;
}

/** The sizes of the ONNX graphs a model directory's sessions open, in MiB (undefined where they cannot be told). */
function onnxMiB(dir: string, config: EmbedderConfig): Record<string, number> | undefined {
  try {
    const files = locateModelFiles(dir, config.variant);
    const size = (path: string) => mebibytes(statSync(path).size);
    return files.combined ? { combined: size(files.textModel) } : { text: size(files.textModel), vision: size(files.visionModel) };
  } catch {
    return undefined;
  }
}

export interface SharedResources {
  metrics: Metrics;
  decodeBudget: DecodeBudget;
}

export async function loadModels(config: EmbedderConfig, { metrics, decodeBudget }: SharedResources, log: Logger): Promise<ModelSet> {
  const { limits } = config;
  const loaded: EmbeddingService[] = [];
  try {
    for (const source of config.models) {
      const label = 'dir' in source ? (source.name ?? source.dir) : source.repo;
      let clip: Clip;
      let dir: string;
      const rssBefore = process.memoryUsage().rss;
      try {
        dir = await modelDir(source, config, log);
        clip = await loadClip(dir, {
          device: config.device,
          variant: config.variant,
          maxPixels: limits.maxPixels,
          decodeLimits: { maxPixelsPerByte: limits.maxPixelsPerByte, budget: decodeBudget },
          decode: config.decode,
          onImageDecoded: ({ format, decoder, declined }) => metrics.imageDecodes.inc({ format, decoder, declined: declined ?? '' }),
          ...(config.threads ? { intraOpThreads: config.threads } : {}),
        });
      } catch (error) {
        const where = 'dir' in source ? ` (${source.dir})` : '';
        throw new Error(`model "${label}"${where} could not be loaded: ${(error as Error).message}`, { cause: error });
      }
      const rssAfter = process.memoryUsage().rss;
      const name = ('name' in source ? source.name : undefined) ?? clip.name;
      const notice = modelNotice(dir);
      const service = new EmbeddingService(clip, config.batching, metrics, { name, notice });
      loaded.push(service);
      log.info(
        {
          model: name,
          dir,
          layout: clip.layout,
          dim: clip.dim,
          graphs: clip.graphs,
          onnxMiB: onnxMiB(dir, config),
          rssBeforeMiB: mebibytes(rssBefore),
          rssAfterMiB: mebibytes(rssAfter),
          rssAddedMiB: mebibytes(rssAfter - rssBefore),
          ...(notice ? { notice } : {}),
        },
        `model ${name} embedding on ${clip.provider === 'cuda' ? 'CUDA' : 'the CPU'}`,
      );
      if (clip.scoring.kind === 'unavailable') log.warn({ model: name, dir }, `model ${name}: scoring unavailable: ${clip.scoring.reason}`);
      metrics.model.set({ model: name, layout: clip.layout, provider: clip.provider, dim: String(clip.dim) }, 1);
    }
    return new ModelSet(loaded);
  } catch (error) {
    await Promise.allSettled(loaded.map((service) => service.clip.close()));
    throw error;
  }
}
