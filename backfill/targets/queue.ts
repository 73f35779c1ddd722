// The worker's backfill queue (POST /v1/backfill, ADMIN_TOKEN): descriptors
// (id, image URL, metadata), never vectors or bytes. The worker puts them on
// a Cloudflare Queue, and its queue consumer fetches, embeds and upserts
// them, so the fetching and the embedding are spread over as many consumer
// invocations as the queue runs; this machine never downloads an image.
// Only URLs can travel: the worker cannot read this machine's files, and a
// file or text entry fails with a reason (prepare.ts) before it gets here.
import { statSync } from 'node:fs';
import { z } from 'zod';
import { FatalError, RejectedError, TransientError, UsageError } from '../failures.ts';
import { parseJson, responseFailure } from '../http-errors.ts';
import type { TargetRecord } from '../items.ts';
import type { Target, TargetPlan } from './target.ts';
import { workerRequester } from './worker-http.ts';

export interface QueueTargetOptions {
  /** The worker's base URL. */
  url: string;
  adminToken: string | undefined;
  /** The source's absolute path ("-": stdin): a directory is refused at once. */
  source: string;
}

/** The worker's defaults (worker/config.ts): MAX_ENQUEUE_ITEMS 1000, MAX_ADMIN_BODY_BYTES 32 MiB. A smaller setting answers 400/413, and batches are split. */
export const QUEUE_TARGET_LIMITS = { maxRecords: 1000, maxBytes: 32 * 1024 * 1024 - 1024, minIntervalMs: 0 };

const healthSchema = z.object({ index: z.object({ ok: z.boolean(), error: z.string().optional() }) });
const queuedSchema = z.object({ queued: z.number() });

export function queueTarget(options: QueueTargetOptions): Target {
  if (options.source !== '-' && statSync(options.source, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(
      '--target queue sends image URLs for the worker to fetch, and it cannot read files on this machine: give a manifest of "url" entries or a URL list, or use --target local, cloudflare or worker for a directory',
    );
  const base = options.url.replace(/\/+$/, '');

  const request = workerRequester(base, 120_000);

  return {
    description: `backfill queue of the worker at ${base}`,
    input: 'descriptors',
    limits: QUEUE_TARGET_LIMITS,

    async prepare(plan: TargetPlan) {
      if (plan.createIndex || plan.metadataIndexes.length)
        throw new FatalError("the worker's API cannot create indexes or metadata indexes; create them with --target local or cloudflare (or wrangler), then queue through the worker");
      if (!options.adminToken) throw new FatalError("--target queue needs ADMIN_TOKEN (the worker's admin token) in the environment");
      const response = await request('GET /healthz', '/healthz');
      const health = healthSchema.safeParse(await response.json().catch(() => undefined));
      if (!health.success) throw new FatalError(`${base}/healthz did not answer like the search worker (HTTP ${response.status})`);
    },

    encode(record: TargetRecord) {
      if (record.url === undefined) throw new Error(`${record.source}: a queue descriptor needs an image URL`);
      return JSON.stringify({ id: record.id, url: record.url, metadata: record.metadata });
    },

    async write(encoded) {
      const response = await request(`queueing ${encoded.length} items`, '/v1/backfill', {
        method: 'POST',
        headers: { authorization: `Bearer ${options.adminToken}`, 'content-type': 'application/json' },
        body: `{"items":[${encoded.join(',')}]}`,
      });
      if (response.status === 202) {
        const queued = queuedSchema.safeParse(parseJson(await response.text().catch(() => '')));
        if (!queued.success || queued.data.queued !== encoded.length)
          throw new TransientError(`worker ${base}: POST /v1/backfill answered 202 without queueing all ${encoded.length} items`);
        return;
      }
      const { failure } = await responseFailure(`worker ${base}: POST /v1/backfill`, response);
      if (failure instanceof RejectedError && response.status === 404)
        throw new FatalError(`${failure.message} (this worker has no backfill queue route: deploy a version with it)`);
      throw failure;
    },
  };
}
