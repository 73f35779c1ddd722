// Starts the embedder: its models, each behind its own batching service, the HTTP server, warm-up.
import { pino, type Logger } from 'pino';
import { errorBody } from '../common/http/api-error.ts';
import { portOf, serveNode } from '../common/http/node-server.ts';
import type { EmbedderConfig } from './config.ts';
import { createApp } from './http/app.ts';
import { createMetrics } from './http/metrics.ts';
import { DecodeBudget } from './image/index.ts';
import { loadModels } from './service/load-models.ts';
import type { ModelSet } from './service/model-set.ts';

export interface RunningEmbedder {
  url: string;
  models: ModelSet;
  /** Stops accepting requests, finishes what is queued, releases the models. */
  close(): Promise<void>;
}

/** The embedder's codes for what Node's HTTP layer refuses (common/http/node-server.ts). */
const REFUSAL_CODES = { 400: 'bad_request', 408: 'request_timeout', 413: 'body_too_large', 431: 'headers_too_large', 500: 'internal_error' } as const;

export async function startEmbedder(config: EmbedderConfig, log: Logger = pino({ name: 'embedder' })): Promise<RunningEmbedder> {
  const { limits } = config;
  // One decode budget and one registry for all models: decoded pixels are the process's memory, whichever model reads them.
  const decodeBudget = new DecodeBudget(limits.decodeBudgetBytes, limits.decodeWaitMs);
  const metrics = createMetrics({ decodeBudget });
  const models = await loadModels(config, { metrics, decodeBudget }, log);
  const app = createApp({
    models,
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
  }).catch(async (error: unknown) => {
    await models.close();
    throw error;
  });
  const port = portOf(server);
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  await models.warmUp();
  log.info({ url, models: models.names }, 'embedder ready');

  return {
    url,
    models,
    async close() {
      // Stop accepting connections, answer everything already queued, then
      // drop the idle keep-alive connections so close() can complete.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await models.drain();
      if ('closeIdleConnections' in server) server.closeIdleConnections();
      await closed;
      await models.close();
    },
  };
}
