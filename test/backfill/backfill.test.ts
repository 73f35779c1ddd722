// The backfill CLI end to end, as real processes: the CLI (through its bin
// entry), the embedder on a generated tiny CLIP, the local index, and for
// --target worker the search worker in workerd. Vectors are checked against
// loadClip's for the same bytes, in this process.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import Cloudflare from 'cloudflare';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClip, type Clip } from '../../embedder/index.ts';
import { generate } from '../../embedder/model-gen/generate.ts';
import { temporaryDirectory } from '../support/files.ts';
import { eventually, sleep } from '../support/timing.ts';
import { cosine } from '../support/vectors.ts';
import { startService } from '../support/service-process.ts';
import { ADMIN_TOKEN, EMBEDDER_TOKEN, startStack, type Stack } from '../support/worker-stack.ts';
import { checkpointEntries, readJsonLines, runCli, startCli, summaryOf, waitForCheckpoint, type CliOptions } from './cli.ts';
import { makeCollection, noiseImage, type Collection } from './collection.ts';
import { indexClient, indexContents, vectorCount, type StoredVector } from './index-contents.ts';

const COUNT = 200;
const tmp = temporaryDirectory('backfill-test-');
let stack: Stack;
let modelDir: string;
let clip: Clip;
let collection: Collection;
let client: Cloudflare;
let env: Record<string, string>;
/** loadClip's embedding of every valid image, by content id. */
const reference = new Map<string, Float32Array>();

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
const contentId = (bytes: Uint8Array) => sha256(bytes).slice(0, 32);
const files = (name: string) => ({ checkpoint: join(tmp, `${name}.checkpoint`), errors: join(tmp, `${name}.errors.jsonl`) });
const fileFlags = (name: string) => ['--checkpoint', files(name).checkpoint, '--errors', files(name).errors];
const backfill = (args: string[], options: CliOptions & { input?: string } = {}) =>
  runCli(args, { cwd: tmp, ...options, env: { ...env, ...options.env } });

function expectSameVector(stored: ArrayLike<number>, expected: ArrayLike<number>) {
  expect(stored.length).toBe(expected.length);
  expect(cosine(stored, expected)).toBeGreaterThan(0.99999);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(stored[i]! - expected[i]!));
  expect(worst).toBeLessThan(1e-5);
}

/** What the CLI stores with an image: its facts, and the model that made the vector (the model directory's name). */
async function imageMetadata(source: string, bytes: Uint8Array) {
  const { width, height, format } = await sharp(bytes).metadata();
  return { source, width, height, bytes: bytes.length, format, model: basename(modelDir) };
}

/** The embedder's own count of image requests answered with `status`. */
async function imageRequests(status: number): Promise<number> {
  const metrics = await (await fetch(`${env.EMBEDDER_URL}/metrics`)).text();
  const match = new RegExp(`^embedder_requests_total\\{route="/v1/embed/image",status="${status}"\\} (\\d+)$`, 'm').exec(metrics);
  return match ? Number(match[1]) : 0;
}

/** A directory of `count` of the collection's images (and any extra files), for the smaller runs. */
function smallDirectory(name: string, count: number, extra: Record<string, Uint8Array | string> = {}): { root: string; images: Map<string, Uint8Array> } {
  const root = join(tmp, name);
  const images = new Map([...collection.images].slice(0, count).map(([relative, bytes]) => [`${name}/${relative}`, bytes] as const));
  for (const [relative, bytes] of images) {
    mkdirSync(dirname(join(tmp, relative)), { recursive: true });
    writeFileSync(join(tmp, relative), bytes);
  }
  for (const [relative, content] of Object.entries(extra)) {
    mkdirSync(dirname(join(root, relative)), { recursive: true });
    writeFileSync(join(root, relative), content);
  }
  return { root, images: new Map([...images].map(([relative, bytes]) => [relative.slice(name.length + 1), bytes])) };
}

beforeAll(async () => {
  const [model] = generate({ arch: 'tiny', outDir: join(tmp, 'models'), seed: 7, layouts: ['hf'] });
  modelDir = model!.dir;
  [stack, collection] = await Promise.all([startStack({ modelDir }), makeCollection(join(tmp, 'photos'), COUNT)]);
  env = { EMBEDDER_URL: stack.embedder.url, EMBEDDER_TOKEN, INDEX_URL: stack.index.url };
  client = indexClient(stack.index.url);
  clip = await loadClip(modelDir);
  const images = [...collection.images.values()];
  const rows = await clip.embedImages(images);
  images.forEach((bytes, i) => reference.set(contentId(bytes), rows[i]!));
}, 180_000);

afterAll(async () => {
  await clip?.close();
  await stack?.close();
});

describe('a directory into the local index', () => {
  const args = ['photos', '--index', 'full', '--create-index', '--metadata-index', 'format:string', ...fileFlags('full')];

  it('indexes every valid image exactly once, with the vector loadClip gives for its bytes and its metadata; corrupt files go to the errors file', async () => {
    const refusedBefore = await imageRequests(400);
    const { code, stdout, stderr } = await backfill(args);
    expect(code, stderr).toBe(0);
    expect(summaryOf(stdout)).toEqual({ indexed: COUNT, skipped: 0, failed: 3, ignored: 1 });

    const stored = await indexContents(client, 'full');
    expect(stored.size).toBe(COUNT);
    for (const [relative, bytes] of collection.images) {
      const row = stored.get(contentId(bytes));
      expect(row, relative).toBeDefined();
      expect(row!.metadata).toEqual(await imageMetadata(relative, bytes));
      expectSameVector(row!.values, reference.get(contentId(bytes))!);
    }
    const indexes = await client.vectorize.indexes.metadataIndex.list('full', { account_id: 'local' });
    expect(indexes?.metadataIndexes).toEqual([{ propertyName: 'format', indexType: 'string' }]);

    const errors = readJsonLines(files('full').errors).sort((a, b) => String(a.source).localeCompare(String(b.source)));
    expect(errors.map((e) => [e.source, e.code])).toEqual([
      ['broken/empty.png', 'empty'],
      ['broken/not-really.jpg', 'not_an_image'],
      ['broken/truncated.jpg', 'corrupt_image'],
    ]);
    expect(errors.every((e) => typeof e.reason === 'string' && e.reason.length > 0)).toBe(true);
    // The truncated JPEG has a sound header: only the embedder finds it out, by refusing its whole
    // batch. The batch was split until it was alone, and every other image of it was indexed.
    expect((await imageRequests(400)) - refusedBefore).toBeGreaterThanOrEqual(2);
  });

  it('a rerun skips everything: the index does not change and only the failed file is tried again', async () => {
    const before = await client.vectorize.indexes.info('full', { account_id: 'local' });
    const requests = await stack.embedderEmbedRequests();
    const { code, stdout, stderr } = await backfill(args);
    expect(code, stderr).toBe(0);
    expect(summaryOf(stdout)).toEqual({ indexed: 0, skipped: COUNT, failed: 3, ignored: 1 });
    const after = await client.vectorize.indexes.info('full', { account_id: 'local' });
    expect(after?.processedUpToMutation).toBe(before?.processedUpToMutation);
    expect(after?.vectorCount).toBe(COUNT);
    expect((await stack.embedderEmbedRequests()) - requests).toBe(1); // the truncated JPEG, alone
  });

  it('--dry-run walks, sniffs and counts, and writes nothing and calls nothing', async () => {
    const requests = await stack.embedderEmbedRequests();
    const { code, stdout, stderr } = await backfill(['photos', '--dry-run', '--index', 'dry', '--create-index', ...fileFlags('dry')]);
    expect(code, stderr).toBe(0);
    // The truncated JPEG looks like one by its first bytes; notes.txt is passed over.
    expect(stdout).toMatch(/204 entries: 201 images to index \(jpeg 101, png 100; [\d.]+ MB\), 0 already indexed, 1 not images \(passed over\), 2 would fail\. Nothing was written\./);
    expect(existsSync(files('dry').checkpoint)).toBe(false);
    expect(existsSync(files('dry').errors)).toBe(false);
    await expect(client.vectorize.indexes.get('dry', { account_id: 'local' })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
    expect(await stack.embedderEmbedRequests()).toBe(requests);

    // Against a finished run's checkpoint, which it does not touch.
    const checkpoint = statSync(files('full').checkpoint);
    const again = await backfill(['photos', '--dry-run', '--index', 'full', ...fileFlags('full')]);
    expect(again.stdout).toMatch(/1 images to index \(jpeg 1; [\d.]+ MB\), 200 already indexed/);
    expect(statSync(files('full').checkpoint).mtimeMs).toBe(checkpoint.mtimeMs);
  });
});

describe('stopping and resuming', () => {
  const ids = () => new Set([...collection.images.values()].map(contentId));

  it('kill -9 mid-run, then the same command: nothing lost, nothing twice, acknowledged work not redone', async () => {
    const args = ['photos', '--index', 'killed', '--create-index', '--batch-size', '2', '--concurrency', '1', ...fileFlags('killed')];
    const first = startCli(args, { cwd: tmp, env });
    await waitForCheckpoint(files('killed').checkpoint, 20);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    const recorded = checkpointEntries(files('killed').checkpoint).length;
    expect(recorded).toBeLessThan(COUNT);

    const second = await backfill(args);
    expect(second.code, second.stderr).toBe(0);
    expect(summaryOf(second.stdout)).toEqual({ indexed: COUNT - recorded, skipped: recorded, failed: 3, ignored: 1 });
    // Not a terminal: a plain progress line every BACKFILL_LOG_INTERVAL_MS, against the total a second walk counted.
    expect(second.stderr).toMatch(/^progress: \d+\/204 \(\d+%\) \| indexed \d+, skipped \d+, failed \d+, ignored \d+ \| [\d.]+ items\/s(, ETA \S+( \S+)?)? \| rss \d+ MiB$/m);
    const stored = await indexContents(client, 'killed');
    expect(new Set(stored.keys())).toEqual(ids());
    const entries = checkpointEntries(files('killed').checkpoint);
    expect(entries.length).toBe(COUNT);
    expect(new Set(entries.map((e) => e.slice(0, 16))).size).toBe(COUNT);
  });

  it('Ctrl-C finishes the batches in flight and records them before exiting; the same command then completes', async () => {
    const args = ['photos', '--index', 'interrupted', '--create-index', '--batch-size', '4', '--concurrency', '2', ...fileFlags('interrupted')];
    const first = startCli(args, { cwd: tmp, env });
    await waitForCheckpoint(files('interrupted').checkpoint, 20);
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(130);
    expect(first.stderr()).toMatch(/SIGINT: finishing the batches in flight/);
    const recorded = checkpointEntries(files('interrupted').checkpoint).length;
    expect(recorded).toBeLessThan(COUNT);
    // Everything the index acknowledged is in the checkpoint, and only that.
    expect(await vectorCount(client, 'interrupted')).toBe(recorded);
    expect(summaryOf(first.stdout()).indexed).toBe(recorded);

    const second = await backfill(args);
    expect(second.code, second.stderr).toBe(0);
    expect(summaryOf(second.stdout)).toMatchObject({ indexed: COUNT - recorded, skipped: recorded });
    expect(new Set((await indexContents(client, 'interrupted')).keys())).toEqual(ids());
  });

  it('a second Ctrl-C exits at once while the first waits for a batch the embedder does not answer; the run still resumes', async () => {
    const lines = [...collection.images.keys()].map((relative) => `${JSON.stringify({ path: join(collection.root, relative) })}\n`);
    const args = ['-', '--index', 'twice', '--create-index', '--batch-size', '5', ...fileFlags('twice')];
    const first = startCli(args, { cwd: tmp, env });
    first.write(lines.slice(0, 20).join(''));
    await waitForCheckpoint(files('twice').checkpoint, 20);
    await stack.killEmbedder();
    try {
      first.write(lines.slice(20, 25).join(''));
      await eventually(async () => (first.stderr().includes('set aside') ? true : undefined), 'the CLI to find the embedder gone');
      first.child.kill('SIGINT');
      await eventually(async () => (first.stderr().includes('finishing the batches in flight') ? true : undefined), 'the first SIGINT taken');
      // The batch in flight waits for the embedder, so the first Ctrl-C does not end the run...
      await sleep(300);
      expect(first.child.exitCode).toBeNull();
      // ...and the second does, at once.
      first.child.kill('SIGINT');
      expect(await first.exited).toBe(130);
      expect(first.stderr()).toMatch(/SIGINT again: exiting now; run the same command to resume/);
      expect(checkpointEntries(files('twice').checkpoint).length).toBe(20);
    } finally {
      await stack.restartEmbedder();
    }

    const second = await backfill(args, { input: lines.join('') });
    expect(second.code, second.stderr).toBe(0);
    expect(summaryOf(second.stdout)).toEqual({ indexed: COUNT - 20, skipped: 20, failed: 0, ignored: 0 });
    expect(new Set((await indexContents(client, 'twice')).keys())).toEqual(ids());
  });
});

describe('faults', () => {
  it('the embedder killed and restarted mid-run: the run waits for it and completes', async () => {
    const lines = [...collection.images.keys()].map((relative) => `${JSON.stringify({ path: join(collection.root, relative) })}\n`);
    const run = startCli(['-', '--index', 'restart', '--create-index', '--batch-size', '5', ...fileFlags('restart')], { cwd: tmp, env });
    run.write(lines.slice(0, 50).join(''));
    await waitForCheckpoint(files('restart').checkpoint, 50);
    await stack.killEmbedder();
    run.write(lines.slice(50, 100).join(''));
    await eventually(async () => (/ECONNREFUSED.*set aside/.test(run.stderr()) ? true : undefined), 'the CLI to find the embedder gone');
    await stack.restartEmbedder();
    run.write(lines.slice(100).join(''));
    run.endInput();
    expect(await run.exited, run.stderr()).toBe(0);
    expect(summaryOf(run.stdout())).toEqual({ indexed: COUNT, skipped: 0, failed: 0, ignored: 0 });
    const stored = await indexContents(client, 'restart');
    expect(stored.size).toBe(COUNT);
    for (const bytes of collection.images.values()) expectSameVector(stored.get(contentId(bytes))!.values, reference.get(contentId(bytes))!);
  });

  it('round-robin over several embedders: one that is down is set aside and the others carry the run', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const small = smallDirectory('roundrobin', 24);
    const { code, stdout, stderr } = await backfill(
      ['roundrobin', '--index', 'roundrobin', '--create-index', '--batch-size', '4', '--embedder', deadUrl, '--embedder', env.EMBEDDER_URL!, ...fileFlags('roundrobin')],
    );
    expect(code, stderr).toBe(0);
    expect(summaryOf(stdout).indexed).toBe(small.images.size);
    expect(stderr).toContain(`${deadUrl} set aside`);
  });

  it('429 from an embedder whose queue is full: the CLI waits as long as Retry-After asks, and the run completes', async () => {
    // A queue of 8 images, filled for 200 ms before each batch: of six requests of 4 sent together, most are refused.
    const busy = await startService('embedder/main.ts', { MODEL_DIR: modelDir, EMBEDDER_PORT: '0', EMBEDDER_MAX_QUEUE: '8', EMBEDDER_BATCH_WAIT_MS: '200' }, 'embedder ready');
    try {
      const small = smallDirectory('throttled', 24);
      const { code, stdout, stderr } = await backfill(['throttled', '--index', 'throttled', '--create-index', '--batch-size', '4', '--concurrency', '6', ...fileFlags('throttled')], {
        env: { EMBEDDER_URL: busy.url, EMBEDDER_TOKEN: '' },
      });
      expect(code, stderr).toBe(0);
      expect(summaryOf(stdout).indexed).toBe(small.images.size);
      const delays = [...stderr.matchAll(/HTTP 429 queue_full: .*; \S+ set aside for ([\d.]+) s/g)].map((m) => Number(m[1]));
      expect(delays.length).toBeGreaterThan(0);
      // Retry-After is at least 1 s; the jittered backoff alone would be well under it.
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(1);
    } finally {
      await busy.stop();
    }
  });

  it('--max-errors stops a run that goes badly, resumably', async () => {
    const bad = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`bad-${i}.jpg`, `not a jpeg ${i}`]));
    smallDirectory('badrun', 10, bad);
    const { code, stderr } = await backfill(['badrun', '--index', 'badrun', '--create-index', '--max-errors', '2', ...fileFlags('badrun')]);
    expect(code).toBe(3);
    expect(stderr).toMatch(/stopped: \d+ items failed, more than --max-errors 2/);
    expect(readJsonLines(files('badrun').errors).length).toBeGreaterThan(2);
  });
});

describe('manifests and URLs', () => {
  let server: Server;
  let base: string;
  const served = new Map<string, Uint8Array>();
  const hits = new Map<string, number>();

  beforeAll(async () => {
    [...collection.images.values()].slice(0, 12).forEach((bytes, i) => served.set(`/img/${i}`, bytes));
    served.set('/flaky.png', await noiseImage(5000, 'png'));
    server = createServer((request, response) => {
      const path = request.url ?? '/';
      hits.set(path, (hits.get(path) ?? 0) + 1);
      // Fails the first time, asking for a retry: the CLI must come back.
      if (path === '/flaky.png' && hits.get(path) === 1) return void response.writeHead(503, { 'retry-after': '0' }).end();
      if (path === '/text.txt') return void response.writeHead(200, { 'content-type': 'image/png' }).end('not an image at all');
      const bytes = served.get(path);
      if (!bytes) return void response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('a JSONL manifest of URLs, a path, a text, ids and metadata; bad lines and bad items go to the errors file', async () => {
    const dir = join(tmp, 'manifest');
    const local = await noiseImage(6000, 'jpeg');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'local.jpg'), local);
    const lines = [
      ...Array.from({ length: 8 }, (_, i) => ({ url: `${base}/img/${i}`, metadata: { album: 'holiday', n: i } })),
      { id: 'my-own-id', url: `${base}/img/8` },
      { url: `${base}/flaky.png` },
      { path: 'local.jpg' },
      { text: 'a photo of a cat', metadata: { lang: 'en' } },
      { url: `${base}/missing.png` },
      { url: `${base}/text.txt` },
      { url: `${base}/img/9`, metadata: { notes: 'x'.repeat(11 * 1024) } },
      { url: 5 },
    ].map((line) => JSON.stringify(line));
    lines.push('this line is not JSON');
    writeFileSync(join(dir, 'items.jsonl'), `${lines.join('\n')}\n`);

    const { code, stdout, stderr } = await backfill(['manifest/items.jsonl', '--index', 'manifest', '--create-index', ...fileFlags('manifest')]);
    expect(code, stderr).toBe(0);
    expect(summaryOf(stdout)).toEqual({ indexed: 12, skipped: 0, failed: 5, ignored: 0 });

    const stored = await indexContents(client, 'manifest');
    expect(stored.size).toBe(12);
    for (let i = 0; i < 8; i++) {
      const bytes = served.get(`/img/${i}`)!;
      const row = stored.get(contentId(bytes))!;
      expect(row.metadata).toEqual({ ...(await imageMetadata(`${base}/img/${i}`, bytes)), album: 'holiday', n: i });
      expectSameVector(row.values, reference.get(contentId(bytes))!);
    }
    expect(stored.get('my-own-id')?.metadata.source).toBe(`${base}/img/8`);
    expect(hits.get('/flaky.png')).toBe(2);
    const [flaky] = await clip.embedImages([served.get('/flaky.png')!]);
    expectSameVector(stored.get(contentId(served.get('/flaky.png')!))!.values, flaky!);
    const [localVector] = await clip.embedImages([local]);
    const localRow = stored.get(contentId(local))!;
    expect(localRow.metadata.source).toBe('local.jpg');
    expectSameVector(localRow.values, localVector!);
    const [cat] = await clip.embedTexts(['a photo of a cat']);
    const text = stored.get(sha256('text:a photo of a cat').slice(0, 32))!;
    expect(text.metadata).toEqual({ text: 'a photo of a cat', bytes: 16, lang: 'en', model: basename(modelDir) });
    expectSameVector(text.values, cat!);

    const errors = readJsonLines(files('manifest').errors);
    expect(errors.map((e) => e.code).sort()).toEqual(['http_404', 'invalid_entry', 'invalid_entry', 'invalid_metadata', 'not_an_image']);
    expect(errors.find((e) => e.code === 'invalid_metadata')?.reason).toMatch(/at most 10240 bytes/);
    expect(errors.filter((e) => e.code === 'invalid_entry').map((e) => e.source)).toEqual(['items.jsonl:16', 'items.jsonl:17']);
  });

  it('a plain list of URLs', async () => {
    writeFileSync(join(tmp, 'urls.txt'), `# three images\n${base}/img/0\n\n${base}/img/1\n${base}/img/2\n`);
    const { code, stdout, stderr } = await backfill(['urls.txt', '--index', 'urllist', '--create-index', ...fileFlags('urllist')]);
    expect(code, stderr).toBe(0);
    expect(summaryOf(stdout)).toEqual({ indexed: 3, skipped: 0, failed: 0, ignored: 0 });
    const stored = await indexContents(client, 'urllist');
    expect([...stored.values()].map((v) => v.metadata.source).sort()).toEqual([0, 1, 2].map((i) => `${base}/img/${i}`));
  });

  it('--id-from url: a URL\'s id is the hash of the URL (as --target queue makes it), with what the download tells', async () => {
    const urls = [0, 1].map((i) => `${base}/img/${i}`);
    writeFileSync(join(tmp, 'byurl.txt'), `${urls.join('\n')}\n`);
    const { code, stderr } = await backfill(['byurl.txt', '--index', 'byurl', '--create-index', '--id-from', 'url', ...fileFlags('byurl')]);
    expect(code, stderr).toBe(0);
    const stored = await indexContents(client, 'byurl');
    expect(new Set(stored.keys())).toEqual(new Set(urls.map((url) => sha256(url).slice(0, 32))));
    for (const url of urls) expect(stored.get(sha256(url).slice(0, 32))!.metadata).toMatchObject({ source: url, width: expect.any(Number), bytes: expect.any(Number) });
  });
});

describe('ids', () => {
  it('--id-from path: the path relative to the root, hashed when it is over 64 bytes', async () => {
    const long = `${'deeply-nested-folder/'.repeat(3)}a-photo-with-a-long-name.png`;
    const longBytes = await noiseImage(7000, 'png');
    const small = smallDirectory('bypath', 5, { [long]: longBytes });
    const { code, stderr } = await backfill(['bypath', '--index', 'bypath', '--create-index', '--id-from', 'path', ...fileFlags('bypath')]);
    expect(code, stderr).toBe(0);
    const stored = await indexContents(client, 'bypath');
    const expected = new Map<string, Uint8Array>([...small.images, [long, longBytes]]);
    expect(new Set(stored.keys())).toEqual(new Set([...expected.keys()].map((p) => (p.length > 64 ? sha256(p).slice(0, 32) : p))));
    const longRow: StoredVector = stored.get(sha256(long).slice(0, 32))!;
    expect(longRow.metadata.source).toBe(long);
  });
});

describe('targets', () => {
  it('--target worker writes through the worker\'s admin API', async () => {
    const small = smallDirectory('viaworker', 12);
    const args = ['viaworker', '--target', 'worker', '--worker-url', stack.worker.url, ...fileFlags('viaworker')];
    const noToken = await backfill(args, { env: { ADMIN_TOKEN: '' } });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/needs ADMIN_TOKEN/);
    const refused = await backfill(args, { env: { ADMIN_TOKEN: 'wrong-token' } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^crossmodal-backfill: .*HTTP 40[13].*check the token\)$/m);

    const { code, stdout, stderr } = await backfill(args, { env: { ADMIN_TOKEN } });
    expect(code, stderr).toBe(0);
    expect(summaryOf(stdout).indexed).toBe(12);
    for (const [relative, bytes] of small.images) {
      const response = await fetch(`${stack.worker.url}/v1/items/${contentId(bytes)}?values=true`);
      expect(response.status).toBe(200);
      const item = (await response.json()) as { metadata: Record<string, unknown>; values: number[] };
      expect(item.metadata).toEqual(await imageMetadata(relative, bytes));
      expectSameVector(item.values, reference.get(contentId(bytes))!);
    }
  });

  it('--target cloudflare is the same code with another base URL and credentials (here: the local index)', async () => {
    smallDirectory('viacloudflare', 6);
    const args = ['viacloudflare', '--target', 'cloudflare', '--index', 'cf', '--create-index', ...fileFlags('viacloudflare')];
    const missing = await backfill(args, { env: { CLOUDFLARE_ACCOUNT_ID: '', CLOUDFLARE_API_TOKEN: '' } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN/);

    const cloudflare = { CLOUDFLARE_BASE_URL: stack.index.url, CLOUDFLARE_ACCOUNT_ID: 'an-account', CLOUDFLARE_API_TOKEN: 'a-token' };
    const { code, stdout, stderr } = await backfill(args, { env: cloudflare });
    expect(code, stderr).toBe(0);
    expect(summaryOf(stdout).indexed).toBe(6);
    expect(await vectorCount(client, 'cf', 'an-account')).toBe(6);
  });

  it('a missing index without --create-index stops the run with a one-line reason', async () => {
    const missing = await backfill(['photos', '--index', 'nowhere', ...fileFlags('nowhere')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n').at(-1)).toMatch(/^crossmodal-backfill: local index nowhere does not exist at .*; pass --create-index to create it$/);
  });

  it('a checkpoint of another backfill is refused rather than trusted', async () => {
    const path = join(tmp, 'elsewhere.checkpoint');
    const scope = { source: collection.root, target: `local index elsewhere at ${stack.index.url}`, idFrom: 'content' };
    writeFileSync(path, `# crossmodal-backfill checkpoint v1 ${JSON.stringify(scope)}\n`);
    const { code, stderr } = await backfill(['photos', '--index', 'other', '--create-index', '--checkpoint', path]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/belongs to another backfill \(target: local index elsewhere at \S+ there, local index other at \S+ now\)/);
    // Refused before anything was touched.
    await expect(client.vectorize.indexes.get('other', { account_id: 'local' })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
  });
});

describe('the command line', () => {
  it('--help documents every flag, the environment and the exit codes', async () => {
    const { code, stdout } = await backfill(['--help']);
    expect(code).toBe(0);
    for (const flag of ['--index', '--target', '--embedder', '--index-url', '--worker-url', '--checkpoint', '--errors', '--concurrency', '--batch-size', '--max-errors', '--dry-run', '--id-from', '--metadata-index', '--create-index'])
      expect(stdout).toContain(flag);
    for (const variable of ['EMBEDDER_URL', 'EMBEDDER_TOKEN', 'INDEX_URL', 'CLOUDFLARE_ACCOUNT_ID', 'CLOUDFLARE_API_TOKEN', 'WORKER_URL', 'ADMIN_TOKEN'])
      expect(stdout).toContain(variable);
    expect(stdout).toMatch(/Exit status[\s\S]*130/);
  });

  it('bad arguments exit 2 with the reason', async () => {
    for (const args of [['photos', '--concurrency', '0'], ['photos', '--id-from', 'name'], ['photos', '--metadata-index', 'kind'], [], ['no-such-dir'], ['photos', '--what']]) {
      const { code, stderr } = await backfill(args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(/^crossmodal-backfill: .+ \(see --help\)\n$/);
    }
  });
});

