// The Vectorize v2 binding interface over the Vectorize v2 REST API (the
// local index service, or Cloudflare's own API): what the worker uses when it
// has no real VECTORIZE binding (local dev, tests, self-hosting). It mirrors
// the binding's behaviour, quirks included (shared/docs/vectorize.md §1):
// returnMetadata `true` becomes "all" while `false` is sent as is (and
// rejected), typed arrays become plain arrays, and a failed call throws
// `Error("<OP>_ERROR (code = <n>): <message>")`.
import type {
  Vectorize,
  VectorizeAsyncMutation,
  VectorizeIndexInfo,
  VectorizeMatches,
  VectorizeQueryOptions,
  VectorizeVector,
} from '@cloudflare/workers-types/index.ts';
import { upstreamHeaders } from '../observability/request-context.ts';

export interface RestAdapterOptions {
  /** The index's REST URL: `<base>/client/v4/accounts/<account>/vectorize/v2/indexes/<name>`. */
  indexUrl: string;
  /** Bearer token (a Cloudflare API token, or the local service's INDEX_TOKEN). */
  token?: string | undefined;
  /** Per call (default 10 s). */
  timeoutMs?: number;
}

type Operation = 'INDEX_GET' | 'VECTOR_QUERY' | 'VECTOR_INSERT' | 'VECTOR_UPSERT' | 'VECTOR_GET' | 'VECTOR_DELETE' | 'VECTOR_LIST';

/** One page of list-vectors (REST only: the Workers binding has no list operation). */
export interface VectorIdPage {
  count: number;
  totalCount: number;
  isTruncated: boolean;
  nextCursor?: string | null;
  cursorExpirationTimestamp?: string | null;
  vectors: { id: string }[];
}

interface Envelope<T> {
  success?: boolean;
  result?: T;
  errors?: { code?: number; message?: string }[];
}

/** The error code in a binding error's message, e.g. 40006 for `VECTOR_QUERY_ERROR (code = 40006): ...`. */
export function vectorizeErrorCode(error: unknown): number | undefined {
  const match = error instanceof Error ? /_ERROR \(code = (\d+)\)/.exec(error.message) : null;
  return match ? Number(match[1]) : undefined;
}

const plain = (values: VectorizeVector['values']): number[] => (Array.isArray(values) ? values : Array.from(values));

export class VectorizeRestAdapter implements Vectorize {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(options: RestAdapterOptions) {
    this.#url = options.indexUrl.replace(/\/+$/, '');
    this.#headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * `processedUpToDatetime` / `processedUpToMutation` are whatever the service
   * sends (ISO-8601 and UUID strings from REST), although the binding's types
   * say numbers.
   */
  async describe(): Promise<VectorizeIndexInfo> {
    return this.#call<VectorizeIndexInfo>('INDEX_GET', '/info', { method: 'GET' });
  }

  async query(vector: number[] | Float32Array | Float64Array, options: VectorizeQueryOptions = {}): Promise<VectorizeMatches> {
    return this.#json<VectorizeMatches>('VECTOR_QUERY', '/query', { vector: plain(vector), ...queryOptions(options) });
  }

  async queryById(vectorId: string, options: VectorizeQueryOptions = {}): Promise<VectorizeMatches> {
    return this.#json<VectorizeMatches>('VECTOR_QUERY', '/query', { vectorId, ...queryOptions(options) });
  }

  /** Ids that already exist are skipped (the first write wins), as upstream. */
  async insert(vectors: VectorizeVector[]): Promise<VectorizeAsyncMutation> {
    return this.#write('VECTOR_INSERT', '/insert', vectors);
  }

  /** Replaces whole vectors (values, metadata and namespace); no metadata merge. */
  async upsert(vectors: VectorizeVector[]): Promise<VectorizeAsyncMutation> {
    return this.#write('VECTOR_UPSERT', '/upsert', vectors);
  }

  async deleteByIds(ids: string[]): Promise<VectorizeAsyncMutation> {
    return this.#json<VectorizeAsyncMutation>('VECTOR_DELETE', '/delete_by_ids', { ids });
  }

  /** Stored vectors with values and metadata; absent ids are left out. */
  async getByIds(ids: string[]): Promise<VectorizeVector[]> {
    return this.#json<VectorizeVector[]>('VECTOR_GET', '/get_by_ids', { ids });
  }

  /** Vector ids page by page (`GET …/list?count=&cursor=`), as Cloudflare's REST API and the local index serve them. */
  async listVectors(options: { count?: number; cursor?: string } = {}): Promise<VectorIdPage> {
    const query = new URLSearchParams();
    if (options.count !== undefined) query.set('count', String(options.count));
    if (options.cursor !== undefined) query.set('cursor', options.cursor);
    const search = query.size ? `?${query}` : '';
    return this.#call<VectorIdPage>('VECTOR_LIST', `/list${search}`, { method: 'GET' });
  }

  #write(op: Operation, path: string, vectors: VectorizeVector[]): Promise<VectorizeAsyncMutation> {
    const body = vectors
      .map(({ id, values, namespace, metadata }) =>
        JSON.stringify({ id, values: plain(values), ...(namespace !== undefined ? { namespace } : {}), ...(metadata !== undefined ? { metadata } : {}) }),
      )
      .join('\n');
    return this.#call<VectorizeAsyncMutation>(op, path, { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } });
  }

  #json<T>(op: Operation, path: string, body: unknown): Promise<T> {
    return this.#call<T>(op, path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  }

  async #call<T>(op: Operation, path: string, init: RequestInit): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.#url}${path}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string> | undefined), ...this.#headers, ...upstreamHeaders() },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      const reason = cause instanceof Error && cause.name === 'TimeoutError' ? `timed out after ${this.#timeoutMs} ms` : String(cause);
      throw new Error(`${op}_ERROR: ${reason}`, { cause });
    }
    let envelope: Envelope<T>;
    try {
      envelope = (await response.json()) as Envelope<T>;
    } catch (cause) {
      throw new Error(`${op}_ERROR: Status + ${response.status}`, { cause });
    }
    if (!response.ok || envelope.success === false) {
      const first = envelope.errors?.[0];
      const code = first?.code ?? response.status;
      const cause = { code, error: first?.message ?? `HTTP ${response.status}` };
      throw new Error(`${op}_ERROR (code = ${code}): ${cause.error}`, { cause });
    }
    return envelope.result as T;
  }
}

/** The binding maps returnMetadata `true` to "all" and leaves everything else alone. */
function queryOptions(options: VectorizeQueryOptions): Record<string, unknown> {
  const { returnMetadata, ...rest } = options;
  return { ...rest, ...(returnMetadata === undefined ? {} : { returnMetadata: returnMetadata === true ? 'all' : returnMetadata }) };
}
