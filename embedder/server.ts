// Starts the embedder: model, batching service, HTTP server, warm-up.
import { existsSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { errorBody } from '../common/http/api-error.ts';
import { portOf, serveNode } from '../common/http/node-server.ts';
import type { EmbedderConfig } from './config.ts';
import { createApp } from './http/app.ts';
import { createMetrics } from './http/metrics.ts';
import { DecodeBudget } from './image/index.ts';
import { loadClip } from './model/clip.ts';
import { defaultModelDir, fetchModel } from './model-fetch/fetch-model.ts';
import { EmbeddingService } from './service/embedding-service.ts';

export interface RunningEmbedder {
  url: string;
  service: EmbeddingService;
  /** Stops accepting requests, finishes what is queued, releases the model. */
  close(): Promise<void>;
}

async function resolveModelDir(config: EmbedderConfig, log: Logger): Promise<string> {
  if (config.modelDir) return config.modelDir;
  if (!config.model) throw new Error('set MODEL_DIR to a model directory or MODEL to a Hugging Face repository id');
  const dir = defaultModelDir(config.model);
  if (!existsSync(dir)) {
    log.info({ model: config.model, dir }, 'downloading model');
    await fetchModel({ repo: config.model, variant: config.variant, outDir: dir, ...(process.env.HF_TOKEN ? { token: process.env.HF_TOKEN } : {}) });
  }
  return dir;
}

/** The embedder's codes for what Node's HTTP layer refuses (common/http/node-server.ts). */
const REFUSAL_CODES = { 400: 'bad_request', 408: 'request_timeout', 413: 'body_too_large', 431: 'headers_too_large', 500: 'internal_error' } as const;

export async function startEmbedder(config: EmbedderConfig, log: Logger = pino({ name: 'embedder' })): Promise<RunningEmbedder> {
  const modelDir = await resolveModelDir(config, log);
  const { limits } = config;
  const decodeBudget = new DecodeBudget(limits.decodeBudgetBytes, limits.decodeWaitMs);
  const metrics = createMetrics({ decodeBudget });
  const clip = await loadClip(modelDir, {
    device: config.device,
    variant: config.variant,
    maxPixels: limits.maxPixels,
    decodeLimits: { maxPixelsPerByte: limits.maxPixelsPerByte, budget: decodeBudget },
    decode: config.decode,
    onImageDecoded: ({ format, decoder, declined }) => metrics.imageDecodes.inc({ format, decoder, declined: declined ?? '' }),
    ...(config.threads ? { intraOpThreads: config.threads } : {}),
  });
  log.info({ model: clip.name, layout: clip.layout, dim: clip.dim, graphs: clip.graphs }, `embedding on ${clip.provider === 'cuda' ? 'CUDA' : 'the CPU'}`);
  metrics.model.set({ model: clip.name, layout: clip.layout, provider: clip.provider, dim: String(clip.dim) }, 1);
  const service = new EmbeddingService(clip, config.batching, metrics);
  const app = createApp({
    service,
    limits,
    metrics,
    log,
    requestLog: log,
    ...(config.token ? { token: config.token } : {}),
    ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
  });

  const server = await serveNode({
    fetch: app.fetch,
    port: config.port,
    hostname: config.host,
    timeouts: config.timeouts,
    errorBody: (status, message) => errorBody(REFUSAL_CODES[status], message),
    onRefusal: (status, reason) => log.info({ status, reason }, 'request refused by the HTTP layer'),
  });
  const port = portOf(server);
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  await service.warmUp();
  log.info({ url }, 'embedder ready');

  return {
    url,
    service,
    async close() {
      // Stop accepting connections, answer everything already queued, then
      // drop the idle keep-alive connections so close() can complete.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await service.drain();
      if ('closeIdleConnections' in server) server.closeIdleConnections();
      await closed;
      await clip.close();
    },
  };
}
