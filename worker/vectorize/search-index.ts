// The vector index as the routes use it: the real VECTORIZE binding or the
// REST adapter behind the same interface, with failures mapped to API errors.
import type {
  KVNamespace,
  Vectorize,
  VectorizeIndexInfo,
  VectorizeMatches,
  VectorizeQueryOptions,
  VectorizeVector,
} from '@cloudflare/workers-types/index.ts';
import { ApiError, IndexUnavailableError } from '../errors.ts';
import { noteUpstreamError } from '../observability/request-context.ts';
import { MutationLog } from './mutation-log.ts';
import { vectorizeErrorCode, type VectorIdPage } from './rest-adapter.ts';

/** What lists an index's ids: the REST adapter (the Workers binding has no list operation). */
export interface VectorLister {
  listVectors(options: { count?: number; cursor?: string }): Promise<VectorIdPage>;
}

/** Maps a binding error (`<OP>_ERROR (code = n): ...`) to what the client should see. */
export function indexError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const code = vectorizeErrorCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 40006:
    case 40012:
      return new ApiError(400, 'dimension_mismatch', detail);
    case 40005:
      return new ApiError(404, 'item_not_found', 'no item with that id');
    case 40025:
      return new ApiError(400, 'invalid_parameter', detail);
    case undefined:
      return new IndexUnavailableError(`vector index unavailable: ${detail}`);
  }
  if (code >= 40000 && code < 50000) return new ApiError(502, 'index_error', detail);
  return new IndexUnavailableError(`vector index unavailable: ${detail}`);
}

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const mapped = indexError(error);
    if (mapped.status >= 500) noteUpstreamError('index');
    throw mapped;
  }
}

export class SearchIndex {
  #info: { dimensions: number; at: number } | undefined;
  readonly #mutations: MutationLog;

  /** `kv`: where writes are recorded for `after=<mutationId>` across isolates (mutation-log.ts). */
  constructor(
    readonly binding: Vectorize,
    kv?: KVNamespace,
    /** The same index through the REST API, for listing; absent, list() answers 500 misconfigured. */
    private readonly lister?: VectorLister,
  ) {
    this.#mutations = new MutationLog(kv);
  }

  describe(): Promise<VectorizeIndexInfo> {
    return guard(() => this.binding.describe());
  }

  /** The index's dimensions, asked once a minute per isolate. */
  async dimensions(): Promise<number> {
    if (this.#info && Date.now() - this.#info.at < 60_000) return this.#info.dimensions;
    const { dimensions } = await this.describe();
    this.#info = { dimensions, at: Date.now() };
    return dimensions;
  }

  query(vector: Float32Array | number[], options: VectorizeQueryOptions): Promise<VectorizeMatches> {
    return guard(() => this.binding.query(vector, options));
  }

  queryById(id: string, options: VectorizeQueryOptions): Promise<VectorizeMatches> {
    return guard(() => this.binding.queryById(id, options));
  }

  getByIds(ids: string[]): Promise<VectorizeVector[]> {
    return guard(() => this.binding.getByIds(ids));
  }

  upsert(vectors: VectorizeVector[]): Promise<{ mutationId: string }> {
    return this.#recorded(guard(() => this.binding.upsert(vectors)));
  }

  deleteByIds(ids: string[]): Promise<{ mutationId: string }> {
    return this.#recorded(guard(() => this.binding.deleteByIds(ids)));
  }

  list(count: number, cursor: string | undefined): Promise<VectorIdPage> {
    const lister = this.lister;
    if (!lister)
      throw new ApiError(500, 'misconfigured', "listing needs the index's REST API, which the Vectorize binding lacks: set VECTORIZE_URL (VECTORIZE_NEXT_URL) and VECTORIZE_TOKEN beside the binding");
    return guard(() => lister.listVectors({ count, ...(cursor !== undefined ? { cursor } : {}) }));
  }

  /** Whether the index has applied the write `mutationId` (asks describe() until it has). */
  mutationProcessed(mutationId: string): Promise<boolean> {
    return this.#mutations.processed(mutationId, () => this.describe());
  }

  async #recorded(write: Promise<{ mutationId: string }>): Promise<{ mutationId: string }> {
    const mutation = await write;
    await this.#mutations.record(mutation.mutationId);
    return mutation;
  }
}
