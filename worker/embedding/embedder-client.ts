// The embedder over HTTP: a service binding and/or base URLs, binary float32
// responses, a timeout per call, one retry on another healthy upstream and a
// circuit breaker per upstream, closed again as soon as the upstream's
// GET /readyz says it is ready. Every call carries the request's x-request-id.
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError, EmbedderUnavailableError } from '../errors.ts';
import { elapsedMs } from '../lib/elapsed.ts';
import { noteUpstreamError, upstreamHeaders } from '../observability/request-context.ts';
import { CircuitBreaker, type BreakerState } from './circuit-breaker.ts';

export interface Upstream {
  /** A URL, or `service:<binding>`. */
  name: string;
  fetch(path: string, init: RequestInit): Promise<Response>;
}

export interface ModelInfo {
  id: string;
  dim: number;
  /** What the embedder says people should know about the model (a demo or random-weight model), if anything. */
  notice?: string;
}

export interface EmbedderClientOptions {
  token?: string | undefined;
  /** The model to ask for (EMBEDDER_MODEL, EMBEDDER_NEXT_MODEL), sent as `model` on every call; unset: the embedder's default. */
  model?: string | undefined;
  timeoutMs: number;
  breakerFailures: number;
  breakerCooldownMs: number;
}

export interface UpstreamHealth {
  upstream: string;
  ok: boolean;
  latencyMs: number;
  circuit: BreakerState;
  error?: string;
}

/** A readiness probe gives up sooner than an embedding call: it only says whether to try. */
const PROBE_TIMEOUT_MS = 1000;

// Per isolate, so a circuit stays open across requests.
const breakers = new Map<string, CircuitBreaker>();
let rotation = 0;

export const urlUpstream = (base: string): Upstream => {
  const root = base.replace(/\/+$/, '');
  return { name: root, fetch: (path, init) => fetch(`${root}${path}`, init) };
};

/** Failures that say nothing about the upstream's health: the request itself was wrong. */
const isClientError = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

export class EmbedderClient {
  readonly #upstreams: { upstream: Upstream; breaker: CircuitBreaker }[];
  readonly #headers: Record<string, string>;

  constructor(
    upstreams: Upstream[],
    private readonly options: EmbedderClientOptions,
  ) {
    this.#upstreams = upstreams.map((upstream) => {
      let breaker = breakers.get(upstream.name);
      if (!breaker || breaker.failures !== options.breakerFailures || breaker.cooldownMs !== options.breakerCooldownMs) {
        breaker = new CircuitBreaker(options.breakerFailures, options.breakerCooldownMs);
        breakers.set(upstream.name, breaker);
      }
      return { upstream, breaker };
    });
    this.#headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
  }

  /** The model named in EMBEDDER_MODEL (or EMBEDDER_NEXT_MODEL), if one is. */
  get requestedModel(): string | undefined {
    return this.options.model;
  }

  async embedTexts(texts: string[]): Promise<Float32Array[]> {
    const body = JSON.stringify({ texts, ...(this.options.model !== undefined ? { model: this.options.model } : {}) });
    return this.#call('/v1/embed/text', { method: 'POST', body, headers: { 'content-type': 'application/json' } }, texts.length);
  }

  async embedImages(images: Uint8Array[]): Promise<Float32Array[]> {
    // The body is the image (or a form of them): the model goes in the query.
    const path = this.options.model !== undefined ? `/v1/embed/image?model=${encodeURIComponent(this.options.model)}` : '/v1/embed/image';
    if (images.length === 1) return this.#call(path, { method: 'POST', body: images[0]!, headers: { 'content-type': 'application/octet-stream' } }, 1);
    const form = new FormData();
    images.forEach((bytes, i) => form.append(`image${i}`, new Blob([bytes]), `image${i}`));
    return this.#call(path, { method: 'POST', body: form }, images.length);
  }

  /**
   * The model this client asks for, from GET /v1/models: the one EMBEDDER_MODEL names, else the
   * embedder's default (the first listed). 502 embedder_error when the embedder does not serve it.
   */
  async model(): Promise<ModelInfo> {
    const served = await this.#request('/v1/models', { method: 'GET' }, async (response) => {
      const body = (await response.json()) as { data?: unknown };
      const models = Array.isArray(body.data) ? body.data.map(modelInfo) : [];
      if (models.length === 0 || models.some((m) => m === undefined)) throw new Error('GET /v1/models: unexpected response');
      return models as ModelInfo[];
    });
    const wanted = this.options.model;
    if (wanted === undefined) return served[0]!;
    const model = served.find((m) => m.id === wanted);
    if (!model)
      throw new ApiError(
        502,
        'embedder_error',
        `the embedder does not serve model ${JSON.stringify(wanted)} (EMBEDDER_MODEL or EMBEDDER_NEXT_MODEL); it serves ${served.map((m) => JSON.stringify(m.id)).join(', ')}`,
      );
    return model;
  }

  /** Each upstream's circuit, in the configured order. */
  circuits(): BreakerState[] {
    return this.#upstreams.map(({ breaker }) => breaker.state);
  }

  /** Probes every upstream's /healthz, bypassing the circuits; each named by its place (the answer is public). */
  async health(timeoutMs: number): Promise<UpstreamHealth[]> {
    return Promise.all(
      this.#upstreams.map(async ({ upstream, breaker }, place) => {
        const label = upstreamLabel(place);
        const started = performance.now();
        try {
          const response = await upstream.fetch('/healthz', { headers: { ...this.#headers, ...upstreamHeaders() }, signal: AbortSignal.timeout(timeoutMs) });
          await response.body?.cancel();
          const ok = response.ok;
          return {
            upstream: label,
            ok,
            latencyMs: elapsedMs(started),
            circuit: breaker.state,
            ...(ok ? {} : { error: `HTTP ${response.status}` }),
          };
        } catch (error) {
          return { upstream: label, ok: false, latencyMs: elapsedMs(started), circuit: breaker.state, error: describe(error) };
        }
      }),
    );
  }

  #call(path: string, init: RequestInit, expected: number): Promise<Float32Array[]> {
    const headers = { ...(init.headers as Record<string, string> | undefined), accept: 'application/octet-stream' };
    return this.#request(path, { ...init, headers }, async (response) => {
      const dim = Number(response.headers.get('x-embedding-dim'));
      const count = Number(response.headers.get('x-embedding-count'));
      const buffer = await response.arrayBuffer();
      if (!Number.isInteger(dim) || dim < 1 || count !== expected || buffer.byteLength !== dim * count * 4)
        throw new Error(`embedder sent ${buffer.byteLength} bytes for ${count}×${dim} (expected ${expected} rows)`);
      return Array.from({ length: count }, (_, i) => new Float32Array(buffer, i * dim * 4, dim));
    });
  }

  /** Whether the upstream says it is ready (GET /readyz answers 2xx); any failure is a no. */
  async #ready(upstream: Upstream): Promise<boolean> {
    try {
      const response = await upstream.fetch('/readyz', {
        headers: upstreamHeaders(),
        signal: AbortSignal.timeout(Math.min(PROBE_TIMEOUT_MS, this.options.timeoutMs)),
      });
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
    }
  }

  /** Whether a call may go to this upstream now: its circuit admits one, or it is open and a readiness probe says the upstream is back. */
  async #admits(upstream: Upstream, breaker: CircuitBreaker): Promise<boolean> {
    if (breaker.tryAcquire()) return true;
    if (!breaker.claimProbe()) return false;
    breaker.probed(await this.#ready(upstream));
    return breaker.tryAcquire();
  }

  /**
   * Sends to the next upstream whose circuit admits a call; on a network
   * error, timeout, 5xx or a busy answer, retries once on another upstream.
   */
  async #request<T>(path: string, init: RequestInit, read: (response: Response) => Promise<T>): Promise<T> {
    const start = rotation++ % Math.max(1, this.#upstreams.length);
    const ordered = [...this.#upstreams.slice(start), ...this.#upstreams.slice(0, start)];
    // Public answers name an upstream by its place in EMBEDDER_URLS, never by its address; the log has both.
    const failures: string[] = [];
    let busyRetryMs = 0;
    let attempts = 0;
    for (const { upstream, breaker } of ordered) {
      if (attempts === 2) break;
      if (!(await this.#admits(upstream, breaker))) continue;
      attempts++;
      const label = upstreamLabel(this.#upstreams.findIndex((entry) => entry.upstream === upstream));
      try {
        const response = await upstream.fetch(path, {
          ...init,
          headers: { ...(init.headers as Record<string, string> | undefined), ...this.#headers, ...upstreamHeaders() },
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        if (isClientError(response.status)) {
          breaker.success();
          throw await clientError(response);
        }
        const busyForMs = busyRetryAfterMs(response);
        if (busyForMs !== undefined) {
          // It answered, so it is up; it is only full (its queue, its decode budget). Opening its
          // circuit would turn one client's burst into an outage for everyone: try another instead.
          breaker.success();
          await response.body?.cancel();
          busyRetryMs = Math.max(busyRetryMs, busyForMs);
          failures.push(`${label}: busy (HTTP ${response.status})`);
          continue;
        }
        if (!response.ok) {
          await response.body?.cancel();
          throw new Error(`HTTP ${response.status}`);
        }
        const result = await read(response);
        breaker.success();
        return result;
      } catch (error) {
        if (error instanceof ApiError) throw error;
        breaker.failure();
        noteUpstreamError('embedder');
        console.warn(`${label} (${upstream.name}) failed: ${describe(error)}`);
        failures.push(`${label}: ${describe(error)}`);
      }
    }
    const circuitRetryMs = Math.min(...this.#upstreams.map(({ breaker }) => breaker.retryInMs || 1000));
    const retryMs = Math.max(busyRetryMs, Number.isFinite(circuitRetryMs) ? circuitRetryMs : 1000);
    const detail = failures.length ? failures.join('; ') : 'every upstream circuit is open';
    throw new EmbedderUnavailableError(`embedder unavailable (${detail})`, retryMs / 1000);
  }
}

/** One entry of GET /v1/models, or undefined when it lacks an id or dimensions. */
function modelInfo(entry: unknown): ModelInfo | undefined {
  const { id, dim, notice } = (entry ?? {}) as { id?: unknown; dim?: unknown; notice?: unknown };
  if (typeof id !== 'string' || typeof dim !== 'number') return undefined;
  return { id, dim, ...(typeof notice === 'string' && notice ? { notice } : {}) };
}

/** How public answers name an upstream: its place in EMBEDDER_URLS (after a service binding), never its address. */
const upstreamLabel = (place: number) => `embedder ${place + 1}`;

/** For an embedder that is up but full (429, or 503 with Retry-After), how long it asks to wait; undefined otherwise. */
function busyRetryAfterMs(response: Response): number | undefined {
  if (response.status !== 429 && response.status !== 503) return undefined;
  const header = response.headers.get('retry-after');
  if (response.status === 503 && header === null) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 60) * 1000 : 1000;
}

async function clientError(response: Response): Promise<ApiError<string>> {
  let code = 'embedder_rejected';
  let message = `embedder answered HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    // not JSON: keep the generic message
  }
  // The embedder refusing our credentials is our misconfiguration, not the client's fault.
  if (response.status === 401 || response.status === 403) return new ApiError(502, 'embedder_auth_failed', 'the embedder rejected the worker\'s credentials (EMBEDDER_TOKEN)');
  if (response.status === 404) return new ApiError(502, 'embedder_error', message);
  return new ApiError<string>(response.status as ContentfulStatusCode, code, message);
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.name === 'TimeoutError' ? 'timed out' : error.message;
  return String(error);
}
