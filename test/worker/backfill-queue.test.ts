// The distributed backfill: descriptors (id, image URL, metadata) through
// POST /v1/backfill into the backfill queue, consumed by the worker's queue()
// handler in workerd (Miniflare's Queues), against the real embedder (tiny
// model) and the local index, with the images served by a local HTTP server.
// Items end in the index exactly once with the embedder's own vectors; an
// embedder outage delays them but loses none; a permanently bad item ends in
// the dead-letter queue with its reason. The CLI's --target queue sends
// descriptors without downloading anything, and what the consumer indexes
// can be searched for by its image's hash.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKFILL_DLQ, COMPATIBILITY_DATE, type LocalWorker } from '../../scripts/worker/local.ts';
import type { DeadLetter } from '../../worker/queue/consumer.ts';
import { retryDelaySeconds } from '../../worker/queue/outcome.ts';
import { QUEUE_LIMITS, sendGroups } from '../../worker/queue/send.ts';
import { runCli, summaryOf } from '../backfill/cli.ts';
import { eventually, sleep } from '../support/timing.ts';
import { ADMIN_TOKEN, startStack, testImage, type Stack } from '../support/worker-stack.ts';

let stack: Stack;
let worker: LocalWorker;
let images: Server;
let imageBase: string;
const pngs = new Map<number, Uint8Array>();
/** Photos under /later/ answer 503 until this is set: a client that fetches them before gets nothing. */
let laterServed = false;

/** The dead-letter queue's consumer: keeps each message in KV, where the test reads it. */
const DEAD_LETTER_CONSUMER = `export default {
  async queue(batch, env) {
    for (const message of batch.messages) {
      await env.DEAD_LETTERS.put(message.id, JSON.stringify(message.body));
      message.ack();
    }
  },
};`;

interface StoredVector {
  id: string;
  values: number[];
  metadata?: Record<string, unknown>;
}

const png = async (n: number) => {
  let bytes = pngs.get(n);
  if (!bytes) {
    bytes = await testImage(n);
    pngs.set(n, bytes);
  }
  return bytes;
};

const enqueue = (items: unknown[], token = ADMIN_TOKEN) =>
  fetch(`${worker.url}/v1/backfill`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ items }),
  });

const photo = (n: number, prefix: string) => ({ id: `${prefix}-${n}`, url: `${imageBase}/photos/${n}.png`, metadata: { n, kind: 'photo' } });
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

async function indexApi<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`${stack.indexUrl}${path}`, init);
  if (!response.ok) throw new Error(`index ${path}: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { result: T }).result;
}
const vectorCount = async () => (await indexApi<{ vectorCount: number }>('/info')).vectorCount;
const stored = (ids: string[]) =>
  indexApi<StoredVector[]>('/get_by_ids', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids }) });
const waitForCount = (count: number, timeoutMs = 60_000) =>
  eventually(async () => ((await vectorCount()) === count ? true : undefined), `${count} vectors in the index`, { timeoutMs, intervalMs: 200 });

/** Every item is stored once, with the vector the embedder gives its image, the metadata it was sent with and the model that made it. */
async function expectIndexed(items: { id: string; metadata: { n: number } }[]) {
  const found = await stored(items.map((i) => i.id));
  expect(found.map((v) => v.id).sort()).toEqual(items.map((i) => i.id).sort());
  const byId = new Map(found.map((v) => [v.id, v]));
  for (const item of items) {
    const vector = byId.get(item.id)!;
    expect(vector.metadata).toMatchObject({ ...item.metadata, model: 'tiny-hf' });
    const expected = await stack.embedImage(await png(item.metadata.n));
    expect(vector.values).toHaveLength(expected.length);
    vector.values.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 5));
  }
}

beforeAll(async () => {
  images = createServer((request, response) => {
    const photoMatch = /^(\/later)?\/photos\/(\d+)\.png$/.exec(request.url ?? '');
    if (photoMatch?.[1] && !laterServed) {
      response.writeHead(503, { 'content-type': 'text/plain' }).end('not yet');
      return;
    }
    if (photoMatch) {
      void png(Number(photoMatch[2])).then((bytes) => response.writeHead(200, { 'content-type': 'image/png' }).end(bytes));
      return;
    }
    if (request.url === '/notes.png') {
      response.writeHead(200, { 'content-type': 'image/png' }).end('these are notes, not an image\n');
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('no such image');
  });
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
  imageBase = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;

  stack = await startStack({
    seed: 5,
    rateLimit: false,
    vars: {
      // The images are on 127.0.0.1, as in local development.
      ALLOW_PRIVATE_IMAGE_URLS: '1',
      QUEUE_RETRY_BASE_SECONDS: '1',
      QUEUE_RETRY_MAX_SECONDS: '2',
      QUEUE_EMBED_BATCH: '8',
      BREAKER_FAILURES: '2',
      BREAKER_COOLDOWN_MS: '1000',
      INDEX_VERSION_TTL_MS: '0',
    },
  });
  worker = await stack.addWorker({
    queueConsumer: { maxBatchSize: 25, maxBatchTimeout: 0, maxRetries: 60, retryDelay: 1 },
    extraWorkers: [
      {
        name: 'dead-letters',
        modules: true,
        script: DEAD_LETTER_CONSUMER,
        compatibilityDate: COMPATIBILITY_DATE,
        kvNamespaces: ['DEAD_LETTERS'],
        queueConsumers: { [BACKFILL_DLQ]: { maxBatchTimeout: 0 } },
      },
    ],
  });
});

afterAll(async () => {
  await stack?.close();
  await new Promise((resolve) => images?.close(resolve));
});

describe('POST /v1/backfill', () => {
  it('needs the admin token and validates every descriptor as Vectorize would', async () => {
    expect((await enqueue([photo(1, 'x')], '')).status).toBe(401);
    expect((await enqueue([photo(1, 'x')], 'wrong')).status).toBe(403);

    const refused = async (item: unknown, fragment: string) => {
      const response = await enqueue([item]);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(body.error.code).toBe('invalid_parameter');
      expect(body.error.message).toContain(fragment);
    };
    await refused({ ...photo(1, 'x'), id: 'é'.repeat(33) }, '64 bytes');
    await refused({ ...photo(1, 'x'), metadata: { notes: 'x'.repeat(11 * 1024) } }, '10240 bytes');
    await refused({ ...photo(1, 'x'), url: 'ftp://images.example/1.png' }, 'url');
    await refused({ id: 'no-url' }, 'url');
    await refused({ ...photo(1, 'x'), image: 'aGVsbG8=' }, 'image');
    expect((await enqueue([])).status).toBe(400);
  });

  it('is listed in the OpenAPI document', async () => {
    const document = (await (await fetch(`${worker.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { security?: unknown }>> };
    expect(document.paths['/v1/backfill']?.post?.security).toEqual([{ admin: [] }]);
  });
});

describe('the backfill queue', () => {
  it('brings 300 items into the index exactly once, with the embedder\'s vectors, and invalidates cached results', async () => {
    const items = Array.from({ length: 300 }, (_, n) => photo(n, 'photo'));
    await Promise.all(items.map((i) => png(i.metadata.n)));
    const probe = Array.from(await stack.embedImage(await png(7)));
    const search = async () => {
      const response = await fetch(`${worker.url}/v1/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ vector: probe, k: 3 }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as { cache: string; results: { id: string }[] };
    };
    expect((await search()).results).toEqual([]);
    expect((await search()).cache).toBe('hit');

    const response = await enqueue(items);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ queued: 300 });
    // A sender that retries (at least once delivery, a CLI resending a batch) changes nothing.
    expect((await enqueue(items.slice(0, 50))).status).toBe(202);

    await waitForCount(300);
    await sleep(1500); // the resent 50 have been consumed too
    expect(await vectorCount()).toBe(300);
    await expectIndexed(items);

    const after = await search();
    expect(after.cache).toBe('miss');
    expect(after.results[0]?.id).toBe('photo-7');
  });

  it('waits out an embedder outage mid-run and loses nothing', async () => {
    const before = await vectorCount();
    const first = Array.from({ length: 40 }, (_, i) => photo(300 + i, 'outage'));
    const second = Array.from({ length: 40 }, (_, i) => photo(340 + i, 'outage'));
    await Promise.all([...first, ...second].map((i) => png(i.metadata.n)));

    expect((await enqueue(first)).status).toBe(202);
    await stack.killEmbedder();
    expect((await enqueue(second)).status).toBe(202);
    await sleep(3000);
    // Nothing sent while the embedder was down has landed.
    expect(await vectorCount()).toBeLessThanOrEqual(before + first.length);

    await stack.restartEmbedder();
    await waitForCount(before + first.length + second.length);
    await expectIndexed([...first, ...second]);
  });

  it('sends permanently bad items (no image, not an image, metadata too large once completed) to the dead-letter queue with the reason, at once, and indexes the rest of their batch', async () => {
    const before = await vectorCount();
    const good = [photo(400, 'mixed'), photo(401, 'mixed')];
    const bad = [
      { id: 'missing', url: `${imageBase}/missing.png` },
      { id: 'notes', url: `${imageBase}/notes.png`, metadata: { kind: 'notes' } },
      // 10,240 bytes of metadata as JSON, the most a descriptor may carry: with bytes and model added, more than the index takes.
      { id: 'crowded', url: `${imageBase}/photos/402.png`, metadata: { notes: 'x'.repeat(10_240 - '{"notes":""}'.length) } },
    ];
    expect((await enqueue([good[0], bad[0], bad[1], bad[2], good[1]])).status).toBe(202);

    const kv = await worker.mf.getKVNamespace('DEAD_LETTERS', 'dead-letters');
    const letters = await eventually(
      async () => {
        const { keys } = await kv.list();
        if (keys.length < 3) return undefined;
        return Promise.all(keys.map(async ({ name }) => JSON.parse((await kv.get(name))!) as DeadLetter));
      },
      'three dead letters',
    );
    const byId = new Map(letters.map((letter) => [(letter.item as { id: string }).id, letter]));
    expect(byId.get('missing')).toMatchObject({ item: bad[0], attempts: 1, error: { code: 'image_fetch_failed' } });
    expect(byId.get('missing')!.error.message).toContain('HTTP 404');
    expect(byId.get('notes')).toMatchObject({ item: bad[1], attempts: 1 });
    expect(byId.get('notes')!.error.message).toMatch(/^the embedder refused the image/);
    expect(byId.get('crowded')).toMatchObject({ item: bad[2], attempts: 1, error: { code: 'invalid_metadata' } });
    expect(byId.get('crowded')!.error.message).toContain('10240 bytes');

    await waitForCount(before + good.length);
    await expectIndexed(good);
    expect(await stored(['missing', 'notes', 'crowded'])).toEqual([]);
  });
});

describe('the CLI with --target queue', () => {
  it('queues the URLs of a manifest without downloading them; the consumer fetches, indexes and remembers them; a rerun queues nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backfill-queue-'));
    try {
      const before = await vectorCount();
      const later = (n: number) => `${imageBase}/later/photos/${n}.png`;
      const named = Array.from({ length: 20 }, (_, i) => ({ id: `cli-${500 + i}`, url: later(500 + i), metadata: { n: 500 + i, kind: 'photo' } }));
      // Without an id, an item is named by its URL: the first 32 hex characters of its SHA-256.
      const unnamed = [520, 521].map((n) => ({ url: later(n), metadata: { n } }));
      const manifest = [
        ...[...named, ...unnamed].map((item) => JSON.stringify(item)),
        JSON.stringify({ id: 'on-disk', path: 'photo.png' }),
        JSON.stringify({ id: 'a-text', text: 'a lighthouse' }),
      ];
      writeFileSync(join(dir, 'photo.png'), await png(1));
      writeFileSync(join(dir, 'manifest.jsonl'), `${manifest.join('\n')}\n`);
      const env = { ADMIN_TOKEN, WORKER_URL: worker.url };
      const args = ['manifest.jsonl', '--target', 'queue', '--errors', 'errors.jsonl', '--checkpoint', 'queue.checkpoint'];

      // Until the CLI is done, every image answers 503: a CLI that fetched one would wait and fail it.
      const run = await runCli(args, { cwd: dir, env });
      expect(run.code, run.stderr).toBe(0);
      expect(summaryOf(run.stdout)).toMatchObject({ indexed: 22, failed: 2 });
      const errors = readFileSync(join(dir, 'errors.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { id?: string; code: string; reason: string });
      expect(errors.map((e) => [e.id, e.code]).sort()).toEqual([
        ['a-text', 'not_a_url'],
        ['on-disk', 'not_a_url'],
      ]);

      laterServed = true;
      const items = [...named, ...unnamed.map((item) => ({ ...item, id: sha256(item.url).slice(0, 32) }))];
      await waitForCount(before + items.length);
      await expectIndexed(items);
      // The source is the URL; the consumer adds the size of what it fetched (width and height would need a decoder).
      for (const vector of await stored(items.map((i) => i.id))) {
        const n = vector.metadata!.n as number;
        expect(vector.metadata).toMatchObject({ source: later(n), bytes: (await png(n)).byteLength });
      }

      // The consumer remembered each image's embedding under its hash, as the admin items route does.
      const byHash = await fetch(`${worker.url}/v1/search?image=sha256:${sha256(await png(507))}&k=3`);
      const found = (await byHash.json()) as { results: { id: string; score: number }[] };
      expect(byHash.status, JSON.stringify(found)).toBe(200);
      expect(found.results[0]).toMatchObject({ id: 'cli-507' });
      expect(found.results[0]!.score).toBeCloseTo(1, 4);

      // The checkpoint holds every descriptor the worker took: the same command again sends none of them.
      const rerun = await runCli(args, { cwd: dir, env });
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(summaryOf(rerun.stdout)).toMatchObject({ indexed: 0, skipped: 22, failed: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a directory, and ids from content, which it would have to download', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backfill-queue-'));
    try {
      writeFileSync(join(dir, 'urls.txt'), `${imageBase}/photos/1.png\n`);
      const env = { ADMIN_TOKEN, WORKER_URL: worker.url };
      const directory = await runCli(['.', '--target', 'queue'], { cwd: dir, env });
      expect(directory.code).toBe(2);
      expect(directory.stderr).toContain('cannot read files on this machine');
      const content = await runCli(['urls.txt', '--target', 'queue', '--id-from', 'content'], { cwd: dir, env });
      expect(content.code).toBe(2);
      expect(content.stderr).toContain('--target queue sends image URLs without downloading them');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sending and retrying within Queues\' limits', () => {
  it('sends at most 100 messages and 256 KB per sendBatch, and refuses a message over 128 KB', () => {
    const small = Array.from({ length: 250 }, (_, i) => ({ id: `i${i}` }));
    expect(sendGroups(small).map((g) => g.length)).toEqual([100, 100, 50]);
    const large = Array.from({ length: 10 }, (_, i) => ({ id: `i${i}`, pad: 'x'.repeat(60_000) }));
    const groups = sendGroups(large);
    expect(groups.map((g) => g.length)).toEqual([4, 4, 2]);
    expect(groups.flat()).toEqual(large);
    expect(() => sendGroups([{ pad: 'x'.repeat(QUEUE_LIMITS.messageBytes) }])).toThrow(RangeError);
  });

  it('retries after base × 2^(attempts − 1) seconds, spread over ½–1× that, capped, and never sooner than Retry-After', () => {
    const backoff = { baseSeconds: 5, maxSeconds: 300 };
    expect([1, 2, 3, 4].map((attempts) => retryDelaySeconds(attempts, backoff, 0, 1))).toEqual([5, 10, 20, 40]);
    expect(retryDelaySeconds(3, backoff, 0, 0)).toBe(10);
    expect(retryDelaySeconds(12, backoff, 0, 1)).toBe(300);
    expect(retryDelaySeconds(1, backoff, 30, 1)).toBe(30);
    expect(retryDelaySeconds(1, backoff, 1000, 1)).toBe(300);
  });
});
