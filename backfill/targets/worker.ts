// The search worker's admin API (POST /v1/items with precomputed vectors,
// and with --thumbnails each image's WebP thumbnail in base64), so that the
// worker bumps its index version and cached results computed before the
// writes stop being served.
import { z } from 'zod';
import { FatalError, RejectedError, TransientError } from '../failures.ts';
import { parseJson, responseFailure } from '../http-errors.ts';
import type { TargetRecord } from '../items.ts';
import type { Target, TargetPlan } from './target.ts';
import { workerRequester } from './worker-http.ts';

export interface WorkerTargetOptions {
  url: string;
  adminToken: string;
}

/** The worker's defaults (worker/config.ts): MAX_BATCH_ITEMS 100, MAX_ADMIN_BODY_BYTES 32 MiB. A smaller setting answers 413/400, and batches are split. */
export const WORKER_LIMITS = { maxRecords: 100, maxBytes: 32 * 1024 * 1024 - 1024, minIntervalMs: 0 };

const healthSchema = z.object({ index: z.object({ ok: z.boolean(), dimensions: z.number().optional(), error: z.string().optional() }) });
const acceptedSchema = z.object({ mutationId: z.string(), count: z.number() });

export function workerTarget(options: WorkerTargetOptions): Target {
  const base = options.url.replace(/\/+$/, '');

  const request = workerRequester(base, 300_000);

  return {
    description: `worker at ${base}`,
    input: 'vectors',
    limits: WORKER_LIMITS,

    async prepare(plan: TargetPlan) {
      if (plan.createIndex || plan.metadataIndexes.length)
        throw new FatalError("the worker's API cannot create indexes or metadata indexes; create them with --target local or cloudflare (or wrangler), then write through the worker");
      const response = await request('GET /healthz', '/healthz');
      const health = healthSchema.safeParse(await response.json().catch(() => undefined));
      if (!health.success) throw new FatalError(`${base}/healthz did not answer like the search worker (HTTP ${response.status})`);
      const index = health.data.index;
      if (!index.ok) throw new TransientError(`worker ${base}: its index is unreachable${index.error ? `: ${index.error}` : ''}`);
      if (index.dimensions !== undefined && index.dimensions !== plan.dimensions)
        throw new FatalError(`the worker's index has ${index.dimensions} dimensions; the embedder's model has ${plan.dimensions}`);
    },

    encode(record: TargetRecord) {
      if (!record.values) throw new Error('a worker record needs values');
      const thumbnail = record.thumbnail ? { thumbnail: Buffer.from(record.thumbnail).toString('base64') } : {};
      return JSON.stringify({ id: record.id, vector: Array.from(record.values), metadata: record.metadata, ...thumbnail });
    },

    async write(encoded) {
      const response = await request(`writing ${encoded.length} items`, '/v1/items', {
        method: 'POST',
        headers: { authorization: `Bearer ${options.adminToken}`, 'content-type': 'application/json' },
        body: `{"items":[${encoded.join(',')}]}`,
      });
      if (response.status === 202) {
        if (!acceptedSchema.safeParse(parseJson(await response.text().catch(() => ''))).success)
          throw new TransientError(`worker ${base}: POST /v1/items answered 202 without a mutationId`);
        return;
      }
      const { failure, code } = await responseFailure(`worker ${base}: POST /v1/items`, response);
      if (failure instanceof RejectedError && (response.status === 404 || code === 'dimension_mismatch')) throw new FatalError(failure.message);
      // Its settings (a thumbnail sent to a worker without the THUMBNAILS binding) do not mend with retries.
      if (code === 'misconfigured') throw new FatalError(failure.message);
      throw failure;
    },
  };
}
