// Prometheus metrics of the embedder, in a registry of its own.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DecodeBudget } from '../image/index.ts';

export function createMetrics({ decodeBudget }: { decodeBudget?: DecodeBudget } = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'embedder_process_' });
  if (decodeBudget) {
    new Gauge({
      name: 'embedder_decode_budget_bytes',
      help: 'Decoded pixel memory reserved by images being decoded (in_use), and the budget (capacity)',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        this.set({ state: 'in_use' }, decodeBudget.inUseBytes);
        this.set({ state: 'capacity' }, decodeBudget.capacityBytes);
      },
    });
    new Gauge({
      name: 'embedder_decode_budget_waiting',
      help: 'Images waiting for room in the decode budget',
      registers: [registry],
      collect() {
        this.set(decodeBudget.waiting);
      },
    });
  }
  return {
    registry,
    requests: new Counter({
      name: 'embedder_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'embedder_request_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'embedder_batch_size',
      help: 'Items per model call, by queue and model',
      labelNames: ['queue', 'model'] as const,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'embedder_batch_seconds',
      help: 'Model time per batch, by queue and model',
      labelNames: ['queue', 'model'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'embedder_queue_depth',
      help: 'Items waiting, by queue and model',
      labelNames: ['queue', 'model'] as const,
      registers: [registry],
    }),
    droppedItems: new Counter({
      name: 'embedder_dropped_items_total',
      help: 'Items that never reached the model, by queue, model and reason: cancelled (the client went away) or timeout (EMBEDDER_TIMEOUT_MS passed, decoding included)',
      labelNames: ['queue', 'model', 'reason'] as const,
      registers: [registry],
    }),
    imageDecodes: new Counter({
      name: 'embedder_image_decodes_total',
      help: 'Images decoded, by format and decoder (native JPEG path, libvips, gif); declined: why the native path left a JPEG to libvips',
      labelNames: ['format', 'decoder', 'declined'] as const,
      registers: [registry],
    }),
    model: new Gauge({
      name: 'embedder_model_info',
      help: 'Each model served and the execution provider it runs on (value 1)',
      labelNames: ['model', 'layout', 'provider', 'dim'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
