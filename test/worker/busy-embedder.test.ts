// The worker in front of an embedder that is up but full, because another
// client filled its queue (429 queue_full) or spent its decode budget (503
// decode_budget_full, with Retry-After). A burst of searches is answered 200,
// or 503 with a Retry-After at least as long as the embedder asked; the
// embedder's circuit stays closed, even with a breaker that opens on one
// failure, so the next search is served as soon as there is room. Public error
// messages name an upstream by its place in EMBEDDER_URLS, never by its address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flatPng } from '../security/hostile-images.ts';
import { eventually } from '../support/timing.ts';
import { EMBEDDER_TOKEN, startStack, testImage, type Stack } from '../support/worker-stack.ts';

const MiB = 1024 * 1024;

let stack: Stack;

interface Answer {
  status: number;
  retryAfter: number;
  text: string;
  error?: { code: string; message: string };
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  const body = JSON.parse(text || '{}') as { error?: { code: string; message: string } };
  return { status: response.status, retryAfter: Number(response.headers.get('retry-after')), text, ...(body.error ? { error: body.error } : {}) };
}

const searchText = async (worker: string, text: string) => answer(await fetch(`${worker}/v1/search?q=${encodeURIComponent(text)}&k=2`));
const searchImage = async (worker: string, png: Uint8Array) =>
  answer(await fetch(`${worker}/v1/search?k=2`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png }));

const embedderRequest = (route: 'text' | 'image', body: string | Uint8Array, signal?: AbortSignal) =>
  fetch(`${stack.embedder.url}/v1/embed/${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${EMBEDDER_TOKEN}`, 'content-type': route === 'text' ? 'application/json' : 'image/png' },
    body,
    ...(signal ? { signal } : {}),
  });
const textBody = (text: string) => JSON.stringify({ texts: [text] });

/** The value of one series of the embedder's metrics, e.g. `embedder_queue_depth{queue="text",model="tiny-hf"}` (0 when absent). */
async function embedderMetric(series: string): Promise<number> {
  const metrics = await (await fetch(`${stack.embedder.url}/metrics`)).text();
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return Number(line?.slice(series.length + 1) ?? 0);
}

const metricReaches = (series: string, holds: (value: number) => boolean) =>
  eventually(async () => (holds(await embedderMetric(series)) ? true : undefined), series, { intervalMs: 5 });

/**
 * Another client's request, straight to the embedder, that takes the embedder's only queue slot
 * (its batch waits EMBEDDER_BATCH_WAIT_MS for company) until it is withdrawn.
 */
function anotherClient(route: 'text' | 'image', body: string | Uint8Array) {
  const controller = new AbortController();
  const outcome = embedderRequest(route, body, controller.signal).then(
    (response) => `HTTP ${response.status}`,
    (error: unknown) => (error instanceof Error ? error.name : String(error)),
  );
  const queued = `embedder_queue_depth{queue="${route}",model="tiny-hf"}`; // the stack's model (its directory's name)
  return {
    queued: () => metricReaches(queued, (depth) => depth === 1),
    /** Cancels the request: the embedder drops it from its queue. */
    async withdraw() {
      await metricReaches(queued, (depth) => depth === 1);
      controller.abort();
      expect(await outcome).toBe('AbortError');
      await metricReaches(queued, (depth) => depth === 0);
    },
  };
}

/** Every answer is a result, or a 503 that says to come back no sooner than the embedder asked, naming no upstream address. */
function expectServedOrBusy(answers: Answer[], embedderRetryAfter: number) {
  for (const { status, retryAfter, text, error } of answers) {
    if (status === 200) continue;
    expect({ status, code: error?.code }, text).toEqual({ status: 503, code: 'embedder_unavailable' });
    expect(retryAfter, text).toBeGreaterThanOrEqual(Math.max(1, embedderRetryAfter));
    expect(error?.message).toMatch(/\bembedder 1: busy\b/);
    expect(text).not.toContain('127.0.0.1');
    expect(text).not.toContain('http://');
  }
}

/** The worker's circuit for each embedder upstream, as GET /healthz reports it (reading them does not change them). */
async function circuits(worker: string): Promise<string[]> {
  const health = (await (await fetch(`${worker}/healthz`)).json()) as { embedder?: { upstreams: { circuit: string }[] } };
  return health.embedder!.upstreams.map((upstream) => upstream.circuit);
}

beforeAll(async () => {
  stack = await startStack({
    seed: 5,
    // One failure would open the circuit for a minute: a busy answer must not count as one.
    vars: { BREAKER_FAILURES: '1', BREAKER_COOLDOWN_MS: '60000' },
    embedderEnv: {
      // One queued item at a time, which waits 1.5 s for a batch to gather: anything else meanwhile is refused with 429 queue_full.
      EMBEDDER_MAX_QUEUE: '1',
      EMBEDDER_BATCH_WAIT_MS: '1500',
      // The smallest budget allowed: a large image spends all of it, and any other image is refused at once with 503 decode_budget_full.
      EMBEDDER_DECODE_BUDGET_BYTES: String(16 * MiB),
      EMBEDDER_DECODE_WAIT_MS: '0',
    },
  });
});

afterAll(async () => {
  await stack?.close();
});

describe('an embedder that answers busy', () => {
  it('while another client fills its queue: searches get 503 with its Retry-After, its circuit stays closed, and the next search is served', async () => {
    const worker = stack.worker.url;
    const other = anotherClient('text', textBody('another client'));
    await other.queued();
    const asked = await answer(await embedderRequest('text', textBody('what the embedder asks')));
    expect([asked.status, asked.error?.code]).toEqual([429, 'queue_full']);

    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => searchText(worker, `a burst of questions, number ${i}`)));
    expectServedOrBusy(answers, asked.retryAfter);
    expect(answers.filter((a) => a.status === 503).length).toBeGreaterThan(0);

    await other.withdraw();
    // Full is not down: the circuit did not open, so a new question goes straight through.
    expect(await circuits(worker)).toEqual(['closed']);
    const next = await searchText(worker, 'the first question after the burst');
    expect(next.status, next.text).toBe(200);
  });

  it('while another client\'s large image spends its decode budget: image searches get 503 with Retry-After, and its circuit stays closed', async () => {
    const worker = stack.worker.url;
    const [large, ...images] = await Promise.all([flatPng(6000, 6000, 1), ...Array.from({ length: 6 }, (_, i) => testImage(20 + i))]);
    const refusedBefore = await embedderMetric('embedder_requests_total{route="/v1/embed/image",status="503"}');
    const other = anotherClient('image', large!);
    await metricReaches('embedder_decode_budget_bytes{state="in_use"}', (bytes) => bytes > 0);

    const answers = await Promise.all(images.map((png) => searchImage(worker, png)));
    expect(await embedderMetric('embedder_requests_total{route="/v1/embed/image",status="503"}')).toBeGreaterThan(refusedBefore);
    expectServedOrBusy(answers, 1); // decode_budget_full asks for 1 s
    expect(answers.filter((a) => a.status === 503).length).toBeGreaterThan(0);

    await other.withdraw();
    expect(await circuits(worker)).toEqual(['closed']);
    const next = await searchImage(worker, images[0]!);
    expect(next.status, next.text).toBe(200);
  });

  it('with several upstreams, a 503 names each by its place in EMBEDDER_URLS, never by its address', async () => {
    // The busy embedder, then an address where nothing listens, whose circuit does not open here:
    // every search has to try both.
    const pair = await stack.addWorker({ embedderUrls: [stack.embedder.url, 'http://127.0.0.1:9'], vars: { BREAKER_FAILURES: '100' } });
    const other = anotherClient('text', textBody('another client, again'));
    try {
      await other.queued();
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => searchText(pair.url, `two upstreams, question ${i}`)));
      expectServedOrBusy(answers, 1);
      const refused = answers.filter((a) => a.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      for (const { error } of refused) expect(error?.message).toMatch(/\bembedder 2: \w/);
    } finally {
      await other.withdraw();
      await pair.close();
    }
  });
});
