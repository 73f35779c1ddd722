// The chaos suite's client: a paced mixed search load on the worker (about
// 90% repeated text queries, 8% new ones, 2% images) from a few concurrent
// connections, and a loop of admin writes that remembers exactly what the
// API acknowledged. Both are bounded in time and in count.
import { seededRandom } from '../support/random.ts';

export type QueryClass = 'repeated' | 'new' | 'image';

export interface Outcome {
  cls: QueryClass;
  /** performance.now() when the request was sent, and its latency. */
  at: number;
  ms: number;
  /** HTTP status; 0 when the request failed or timed out in the client. */
  status: number;
  cache?: string;
  retryAfter?: string;
  error?: string;
}

export interface LoadOptions {
  baseUrl: string;
  images: Uint8Array[];
  /** Stop at this performance.now() time, or after maxRequests. */
  until: number;
  maxRequests: number;
  /** Requests per second over all connections (paced: a connection waits its turn). */
  rate: number;
  connections: number;
  /** A request that takes longer counts as failed (status 0). */
  timeoutMs: number;
  seed: number;
}

const WORDS = ['harbour', 'sunset', 'forest', 'tram', 'kite', 'lantern', 'glacier', 'market', 'violin', 'desert', 'owl', 'bridge', 'orchard', 'canyon', 'meadow'];

/** The repeated queries: a fixed set clients keep asking. */
export const REPEATED_QUERIES = Array.from({ length: 40 }, (_, i) => `${WORDS[i % WORDS.length]} ${WORDS[(i * 7 + 3) % WORDS.length]} at dusk`);

export async function runSearchLoad(options: LoadOptions): Promise<Outcome[]> {
  const random = seededRandom(options.seed);
  const outcomes: Outcome[] = [];
  let sent = 0;
  let novel = 0;
  const start = performance.now();
  const interval = 1000 / options.rate;

  const one = async (): Promise<void> => {
    const roll = random();
    const cls: QueryClass = roll < 0.9 ? 'repeated' : roll < 0.98 ? 'new' : 'image';
    let url: string;
    let init: RequestInit = {};
    if (cls === 'image') {
      url = `${options.baseUrl}/v1/search?k=5`;
      const image = options.images[Math.floor(random() * options.images.length)]!;
      init = { method: 'POST', headers: { 'content-type': 'image/png' }, body: image };
    } else {
      const text = cls === 'repeated' ? REPEATED_QUERIES[Math.floor(random() * REPEATED_QUERIES.length)]! : `never asked ${novel++} ${WORDS[novel % WORDS.length]}`;
      url = `${options.baseUrl}/v1/search?q=${encodeURIComponent(text)}&k=5`;
    }
    const at = performance.now();
    try {
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(options.timeoutMs) });
      const body = (await response.json()) as { cache?: string; error?: { code?: string } };
      outcomes.push({
        cls,
        at,
        ms: performance.now() - at,
        status: response.status,
        ...(body.cache ? { cache: body.cache } : {}),
        ...(response.headers.get('retry-after') ? { retryAfter: response.headers.get('retry-after')! } : {}),
        ...(body.error?.code ? { error: body.error.code } : {}),
      });
    } catch (error) {
      outcomes.push({ cls, at, ms: performance.now() - at, status: 0, error: (error as Error).name === 'TimeoutError' ? 'client_timeout' : (error as Error).message });
    }
  };

  const connection = async () => {
    for (;;) {
      // Paced: the n-th request of the whole load is not sent before start + n / rate.
      const slot = sent++;
      if (slot >= options.maxRequests) return;
      const due = start + slot * interval;
      if (due >= options.until) return;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await one();
    }
  };
  await Promise.all(Array.from({ length: options.connections }, connection));
  return outcomes;
}

export interface WriteOptions {
  baseUrl: string;
  adminToken: string;
  until: number;
  maxWrites: number;
  /** Pause between two writes. */
  pauseMs: number;
  timeoutMs: number;
}

export interface WriteLog {
  /** Every id a write was attempted for (acknowledged or not), with the highest generation attempted. */
  attempted: Map<string, number>;
  /** Ids whose write the API acknowledged (202), with the highest acknowledged generation. */
  acknowledged: Map<string, number>;
  /** Status counts of the write requests (0: failed in the client). */
  statuses: Map<number, number>;
  /** Each write: when it was sent, its latency and status. */
  outcomes: { at: number; ms: number; status: number }[];
}

/**
 * Admin writes one after another: each upserts a new item and, every third
 * time, writes an earlier acknowledged item again with a higher generation
 * in its metadata (an upsert must replace it, never add a second copy).
 */
export async function runWriteLoop(options: WriteOptions): Promise<WriteLog> {
  const log: WriteLog = { attempted: new Map(), acknowledged: new Map(), statuses: new Map(), outcomes: [] };
  for (let n = 0; n < options.maxWrites && performance.now() < options.until; n++) {
    const items = [{ id: `w${n}`, generation: n }];
    const earlier = [...log.acknowledged.keys()];
    if (n % 3 === 2 && earlier.length) items.push({ id: earlier[n % earlier.length]!, generation: n });
    for (const { id, generation } of items) log.attempted.set(id, Math.max(generation, log.attempted.get(id) ?? -1));
    const body = { items: items.map(({ id, generation }) => ({ id, text: `chaos item ${id} generation ${generation}`, metadata: { generation } })) };
    const at = performance.now();
    let status = 0;
    try {
      const response = await fetch(`${options.baseUrl}/v1/items`, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      status = response.status;
      await response.body?.cancel();
    } catch {
      status = 0;
    }
    log.outcomes.push({ at, ms: performance.now() - at, status });
    log.statuses.set(status, (log.statuses.get(status) ?? 0) + 1);
    if (status === 202) for (const { id, generation } of items) log.acknowledged.set(id, Math.max(generation, log.acknowledged.get(id) ?? -1));
    await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
  }
  return log;
}
