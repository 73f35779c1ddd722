// Vectorize through its REST API with the official `cloudflare` SDK: real
// Cloudflare Vectorize, or the local index, which speaks the same API. The
// two differ only in the base URL and the credentials.
import Cloudflare, { toFile } from 'cloudflare';
import { z } from 'zod';
import { FatalError, RejectedError, TransientError, networkMessage, retryAfterMs } from '../failures.ts';
import type { TargetRecord } from '../items.ts';
import { log } from '../log.ts';
import type { MetadataIndexSpec, Target, TargetPlan } from './target.ts';

export interface VectorizeTargetOptions {
  /** Base URL including /client/v4. */
  baseURL: string;
  accountId: string;
  apiToken: string;
  index: string;
  /** "local index" or "Cloudflare Vectorize", for messages. */
  label: string;
  /** Least time between writes (Cloudflare's API allows 1200 requests per 5 minutes per account). */
  minIntervalMs: number;
}

/** Vectorize's upsert limits (shared/docs/vectorize.md §4): 1000 vectors (the binding's, the stricter) and 100 MB. */
export const VECTORIZE_LIMITS = { maxRecords: 1000, maxBytes: 100_000_000 };

// Codes that no smaller batch will get past (shared/docs/vectorize.md §1, index/README.md).
const FATAL_CODES = new Map([
  [40004, 'the index does not exist'],
  [40012, "the index's dimensions differ from the embedder's"],
]);

const indexConfig = z.object({ config: z.object({ dimensions: z.number(), metric: z.string() }).optional() });

export function vectorizeTarget(options: VectorizeTargetOptions): Target {
  // Retries are the backfill's own (backoff with jitter, Retry-After, a deadline), not the SDK's.
  // Explicit nulls keep the SDK from picking other credentials up from the environment.
  const client = new Cloudflare({ apiToken: options.apiToken, apiKey: null, apiEmail: null, userServiceKey: null, baseURL: options.baseURL, maxRetries: 0, timeout: 300_000 });
  const api = client.vectorize.indexes;
  const account_id = options.accountId;
  const name = options.index;
  const where = `${options.label} ${name}`;

  const failure = (what: string, error: unknown): Error => {
    if (error instanceof Cloudflare.APIConnectionError) return new TransientError(`${where}: ${what}: ${networkMessage(error.cause ?? error)}`);
    if (!(error instanceof Cloudflare.APIError) || error.status === undefined) return error as Error;
    const status = error.status;
    const first = error.errors[0];
    const text = `${where}: ${what}: HTTP ${status}${first ? ` ${first.code}: ${first.message}` : ` ${error.message}`}`;
    if (status === 408 || status === 409 || status === 429 || status >= 500) return new TransientError(text, retryAfterMs(error.headers?.get('retry-after')));
    if (status === 401 || status === 403) return new FatalError(`${text} (check the API token)`);
    const fatalReason = first?.code === undefined ? undefined : FATAL_CODES.get(first.code);
    if (status === 404 || fatalReason) return new FatalError(`${text} (${fatalReason ?? 'not found'})`);
    return new RejectedError(status, first?.code === undefined ? '' : String(first.code), text);
  };

  const call = async <T>(what: string, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      throw failure(what, error);
    }
  };

  async function ensureMetadataIndexes(specs: MetadataIndexSpec[], created: boolean): Promise<void> {
    if (specs.length === 0) return;
    const existing = (await call('listing metadata indexes', () => api.metadataIndex.list(name, { account_id })))?.metadataIndexes ?? [];
    for (const spec of specs) {
      const found = existing.find((m) => m.propertyName === spec.propertyName);
      if (found && found.indexType !== spec.indexType)
        throw new FatalError(`${where} indexes metadata "${spec.propertyName}" as ${found.indexType}, not ${spec.indexType}`);
      if (found) continue;
      await call(`creating metadata index ${spec.propertyName}`, () => api.metadataIndex.create(name, { account_id, ...spec }));
      log.info(`created metadata index ${spec.propertyName} (${spec.indexType}) on ${where}`);
      if (!created) log.warn(`vectors already in ${name} are not in the new metadata index ${spec.propertyName} until they are written again`);
    }
  }

  return {
    description: `${where} at ${options.baseURL}`,
    input: 'vectors',
    limits: { ...VECTORIZE_LIMITS, minIntervalMs: options.minIntervalMs },

    async prepare(plan: TargetPlan) {
      let created = false;
      let existing: unknown;
      try {
        existing = await api.get(name, { account_id });
      } catch (error) {
        if (!(error instanceof Cloudflare.NotFoundError)) throw failure('reading the index', error);
        if (!plan.createIndex) throw new FatalError(`${where} does not exist at ${options.baseURL}; pass --create-index to create it`);
        await call('creating the index', () => api.create({ account_id, name, config: { dimensions: plan.dimensions, metric: 'cosine' } }));
        log.info(`created ${where} (${plan.dimensions} dimensions, cosine)`);
        created = true;
      }
      if (!created) {
        const config = indexConfig.safeParse(existing).data?.config;
        if (config && config.dimensions !== plan.dimensions)
          throw new FatalError(`${where} has ${config.dimensions} dimensions; the embedder's model has ${plan.dimensions}`);
        if (config && config.metric !== 'cosine') log.warn(`${where} uses the ${config.metric} metric; CLIP embeddings are compared by cosine`);
      }
      await ensureMetadataIndexes(plan.metadataIndexes, created);
    },

    encode(record: TargetRecord) {
      if (!record.values) throw new Error('a Vectorize record needs values');
      return JSON.stringify({ id: record.id, values: Array.from(record.values), metadata: record.metadata });
    },

    async write(encoded) {
      const body = await toFile(Buffer.from(encoded.join('\n'), 'utf8'), 'vectors.ndjson', { type: 'application/x-ndjson' });
      const result = await call(`upserting ${encoded.length} vectors`, () => api.upsert(name, { account_id, body }));
      if (typeof result?.mutationId !== 'string') throw new TransientError(`${where}: upsert answered without a mutationId`);
    },
  };
}
