// The embedder's batch endpoints, over one or more embedder URLs: requests
// go round-robin; an embedder that fails (network, timeout, 429, 5xx) is set
// aside with exponential backoff and jitter (or what Retry-After asks) and
// the request moves on to the next one. Images go up as multipart files and
// embeddings come back as raw float32 rows.
import { z } from 'zod';
import { FatalError, RejectedError, TransientError, networkMessage } from '../failures.ts';
import { responseFailure } from '../http-errors.ts';
import type { Log } from '../log.ts';
import { DEFAULT_RETRY, backoffDelay, sleep, type RetryPolicy } from '../retry.ts';
import { multipartFiles } from './multipart.ts';

export interface EmbedderModel {
  /** The model's name (GET /v1/models). */
  name: string;
  dim: number;
}

export interface EmbedderPoolOptions {
  urls: string[];
  token?: string | undefined;
  /** One request's time limit. */
  requestTimeoutMs?: number;
  retry?: RetryPolicy;
  log: Log;
}

interface Endpoint {
  url: string;
  /** Not used again before this time. */
  downUntil: number;
  failures: number;
  /** GET /v1/models answered with the pool's model. */
  checked: boolean;
}

const modelsSchema = z.object({ data: z.array(z.object({ id: z.string(), dim: z.number().int().positive() })).min(1) });

export class EmbedderPool {
  private readonly endpoints: Endpoint[];
  private readonly token: string | undefined;
  private readonly requestTimeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly log: Log;
  private next = 0;
  private reference: EmbedderModel | undefined;

  constructor(options: EmbedderPoolOptions) {
    if (options.urls.length === 0) throw new FatalError('no embedder URL');
    this.endpoints = options.urls.map((url) => ({ url: url.replace(/\/+$/, ''), downUntil: 0, failures: 0, checked: false }));
    this.token = options.token;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 120_000;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.log = options.log;
  }

  get urls(): string[] {
    return this.endpoints.map((e) => e.url);
  }

  /** The model every embedder must serve: asked of the first one that answers. */
  async model(): Promise<EmbedderModel> {
    if (!this.reference) await this.call('GET /v1/models', async () => undefined);
    return this.reference!;
  }

  async embedImages(images: readonly Uint8Array[]): Promise<Float32Array[]> {
    return this.call(`embedding ${images.length} image${images.length === 1 ? '' : 's'}`, async (endpoint) => {
      const { body, contentType } = multipartFiles('image', images);
      return this.rows(endpoint, '/v1/embed/image', body, images.length, contentType);
    });
  }

  async embedTexts(texts: readonly string[]): Promise<Float32Array[]> {
    return this.call(`embedding ${texts.length} text${texts.length === 1 ? '' : 's'}`, async (endpoint) =>
      this.rows(endpoint, '/v1/embed/text', JSON.stringify({ texts }), texts.length, 'application/json'),
    );
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  /**
   * Runs `request` on the next embedder that is not set aside, moving on after each transient failure,
   * until it succeeds, is refused (RejectedError) or fatal, or the pool has failed for the deadline.
   */
  private async call<T>(what: string, request: (endpoint: Endpoint) => Promise<T>): Promise<T> {
    const started = Date.now();
    for (;;) {
      const endpoint = await this.pick();
      try {
        if (!endpoint.checked) await this.check(endpoint);
        const result = await request(endpoint);
        endpoint.failures = 0;
        return result;
      } catch (error) {
        if (!(error instanceof TransientError)) throw error;
        const delay = backoffDelay(endpoint.failures++, this.retry, error.retryAfterMs);
        endpoint.downUntil = Date.now() + delay;
        if (Date.now() - started > this.retry.deadlineMs)
          throw new FatalError(`${what}: no embedder has answered for ${Math.round((Date.now() - started) / 1000)} s (last: ${error.message})`);
        const others = this.endpoints.length > 1 ? '; trying the next embedder' : '';
        this.log.warn(`${error.message}; ${endpoint.url} set aside for ${(delay / 1000).toFixed(1)} s${others}`);
      }
    }
  }

  /** The next embedder in turn that is not set aside, waiting for the first to come back if all are. */
  private async pick(): Promise<Endpoint> {
    for (;;) {
      const now = Date.now();
      for (let i = 0; i < this.endpoints.length; i++) {
        const endpoint = this.endpoints[(this.next + i) % this.endpoints.length]!;
        if (endpoint.downUntil <= now) {
          this.next = (this.next + i + 1) % this.endpoints.length;
          return endpoint;
        }
      }
      await sleep(Math.min(...this.endpoints.map((e) => e.downUntil)) - now);
    }
  }

  /** GET /v1/models: every embedder must serve the same model, or the index would mix embedding spaces. */
  private async check(endpoint: Endpoint): Promise<void> {
    const response = await this.fetch(endpoint, '/v1/models', { headers: this.headers() });
    if (!response.ok) throw await this.failure(endpoint, 'GET /v1/models', response);
    const parsed = modelsSchema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) throw new FatalError(`${endpoint.url}/v1/models did not answer like an embedder`);
    const model = { name: parsed.data.data[0]!.id, dim: parsed.data.data[0]!.dim };
    if (!this.reference) this.reference = model;
    else if (this.reference.name !== model.name || this.reference.dim !== model.dim)
      throw new FatalError(
        `embedders disagree: ${endpoint.url} serves ${model.name} (${model.dim} dimensions), another ${this.reference.name} (${this.reference.dim}); one index needs one model`,
      );
    endpoint.checked = true;
  }

  private async rows(endpoint: Endpoint, path: string, body: Uint8Array | string, count: number, contentType: string): Promise<Float32Array[]> {
    const response = await this.fetch(endpoint, path, {
      method: 'POST',
      headers: this.headers({ accept: 'application/octet-stream', 'content-type': contentType }),
      body: body as Uint8Array<ArrayBuffer> | string,
    });
    if (!response.ok) throw await this.failure(endpoint, `POST ${path}`, response);
    const dim = Number(response.headers.get('x-embedding-dim'));
    const rows = Number(response.headers.get('x-embedding-count'));
    let buffer: ArrayBuffer;
    try {
      buffer = await response.arrayBuffer();
    } catch (error) {
      throw new TransientError(`${endpoint.url}${path}: response cut off (${networkMessage(error)})`);
    }
    if (dim !== this.reference!.dim || rows !== count || buffer.byteLength !== rows * dim * 4)
      throw new FatalError(`${endpoint.url}${path} answered ${rows} rows of ${dim} dimensions in ${buffer.byteLength} bytes for ${count} inputs`);
    return Array.from({ length: rows }, (_, i) => new Float32Array(buffer, i * dim * 4, dim));
  }

  private async fetch(endpoint: Endpoint, path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${endpoint.url}${path}`, { ...init, signal: AbortSignal.timeout(this.requestTimeoutMs) });
    } catch (error) {
      throw new TransientError(`${endpoint.url}${path}: ${networkMessage(error)}`);
    }
  }

  private async failure(endpoint: Endpoint, what: string, response: Response): Promise<Error> {
    const { failure } = await responseFailure(`${endpoint.url} ${what}`, response);
    // A 404 means this is not an embedder (or not this version): no batch will ever go through.
    if (failure instanceof RejectedError && response.status === 404) return new FatalError(failure.message);
    return failure;
  }
}
