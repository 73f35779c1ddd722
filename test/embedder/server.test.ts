// The embedder as users run it: a real process on the tiny model, over HTTP.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import OpenAI from 'openai';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClip, type Clip } from '../../embedder/index.ts';
import { generate } from '../../embedder/model-gen/generate.ts';
import { startService, type ServiceProcess } from '../support/service-process.ts';
import { flatPng, truncatedJpeg } from '../security/hostile-images.ts';
import { rawExchange, rawRequest } from '../security/raw-http.ts';
import { PNG_SIGNATURE, pngChunk } from '../support/png.ts';
import { temporaryDirectory } from '../support/files.ts';
import { eventually } from '../support/timing.ts';
import { cosine } from '../support/vectors.ts';

const modelsDir = temporaryDirectory('embedder-models-');
generate({ arch: 'tiny', outDir: modelsDir, seed: 11 });

async function testImages() {
  const photo = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 200, g: 80, b: 30 } } })
    .composite([{ input: Buffer.from('<svg width="320" height="240"><circle cx="160" cy="120" r="90" fill="#1e90ff"/></svg>') }])
    .jpeg()
    .toBuffer();
  const other = await sharp({ create: { width: 200, height: 300, channels: 4, background: { r: 10, g: 200, b: 90, alpha: 0.5 } } }).png().toBuffer();
  return { photo: new Uint8Array(photo), other: new Uint8Array(other) };
}

/** A PNG whose header declares width × height pixels, with no pixel data behind it. */
function pngHeader(width: number, height: number): Buffer {

  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IEND', Buffer.alloc(0))]);
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  });

describe.each(['tiny-hf', 'tiny-immich'])('embedder over HTTP (%s)', (layout) => {
  let embedder: ServiceProcess;
  let clip: Clip;
  let images: Awaited<ReturnType<typeof testImages>>;
  beforeAll(async () => {
    [embedder, clip, images] = await Promise.all([
      startService('embedder/main.ts', { MODEL_DIR: join(modelsDir, layout), EMBEDDER_PORT: '0', EMBEDDER_BATCH_WAIT_MS: '20' }, 'embedder ready'),
      loadClip(join(modelsDir, layout)),
      testImages(),
    ]);
  });
  afterAll(async () => {
    await embedder?.stop();
    await clip?.close();
  });

  it('is ready and describes its model', async () => {
    expect((await fetch(`${embedder.url}/readyz`)).status).toBe(200);
    const models = (await (await fetch(`${embedder.url}/v1/models`)).json()) as { data: { id: string; dim: number; provider: string }[] };
    expect(models.data[0]).toMatchObject({ id: layout, dim: 32, provider: 'cpu' });
  });

  it('returns the embeddings loadClip computes, as JSON and as raw float32', async () => {
    const texts = ['a photo of a cat', 'sunset over mountains'];
    const direct = await clip.embedTexts(texts);
    const json = (await (await post(`${embedder.url}/v1/embed/text`, { texts })).json()) as { embeddings: number[][] };
    json.embeddings.forEach((e, i) => expect(cosine(e, direct[i]!)).toBeGreaterThan(0.99999));

    const binary = await post(`${embedder.url}/v1/embed/image`, images.photo, { 'content-type': 'image/jpeg', accept: 'application/octet-stream' });
    expect(binary.headers.get('x-embedding-dim')).toBe('32');
    const rows = new Float32Array(await binary.arrayBuffer());
    const [directImage] = await clip.embedImages([images.photo]);
    expect(cosine(rows, directImage!)).toBeGreaterThan(0.99999);
  });

  it('embeds several images sent as multipart', async () => {
    const form = new FormData();
    form.append('a', new Blob([images.photo]), 'a.jpg');
    form.append('b', new Blob([images.other]), 'b.png');
    const response = await fetch(`${embedder.url}/v1/embed/image`, { method: 'POST', body: form });
    const body = (await response.json()) as { embeddings: number[][] };
    expect(body.embeddings).toHaveLength(2);
    const direct = await clip.embedImages([images.photo, images.other]);
    body.embeddings.forEach((e, i) => expect(cosine(e, direct[i]!)).toBeGreaterThan(0.99999));
  });

  it('works with the official openai client, texts and images in one space', async () => {
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${embedder.url}/v1` });
    const result = await client.embeddings.create({ model: layout, input: ['a photo of a cat', 'sunset'] });
    expect(result.data.map((d) => d.index)).toEqual([0, 1]);
    const direct = await clip.embedTexts(['a photo of a cat', 'sunset']);
    result.data.forEach((d, i) => expect(cosine(d.embedding, direct[i]!)).toBeGreaterThan(0.99999));
    expect(result.usage.prompt_tokens).toBeGreaterThan(0);

    const dataUrl = `data:image/jpeg;base64,${Buffer.from(images.photo).toString('base64')}`;
    const mixed = (await (await post(`${embedder.url}/v1/embeddings`, { input: [{ text: 'a ball' }, { image: dataUrl }], encoding_format: 'float' })).json()) as {
      data: { embedding: number[] }[];
    };
    const [imageVector] = await clip.embedImages([images.photo]);
    expect(cosine(mixed.data[1]!.embedding, imageVector!)).toBeGreaterThan(0.99999);
  });

  it('scores texts against images and classifies with probabilities', async () => {
    const b64 = Buffer.from(images.photo).toString('base64');
    const sim = (await (await post(`${embedder.url}/v1/similarity`, { texts: ['a', 'b', 'c'], images: [b64, b64] })).json()) as { scores: number[][] };
    expect(sim.scores).toHaveLength(3);
    expect(sim.scores[0]).toHaveLength(2);
    const cls = (await (await post(`${embedder.url}/v1/classify`, { image: b64, labels: ['cat', 'dog', 'car'] })).json()) as {
      labels: { label: string; probability: number }[];
    };
    expect(cls.labels.map((l) => l.label).sort()).toEqual(['car', 'cat', 'dog']);
    expect(cls.labels.reduce((s, l) => s + l.probability, 0)).toBeCloseTo(1, 5);
  });

  it('coalesces concurrent requests into batches (visible in /metrics)', async () => {
    const requests = Array.from({ length: 24 }, (_, i) => post(`${embedder.url}/v1/embed/text`, { text: `query number ${i}` }));
    expect((await Promise.all(requests)).every((r) => r.status === 200)).toBe(true);
    const metrics = await (await fetch(`${embedder.url}/metrics`)).text();
    const count = Number(new RegExp(`embedder_batch_size_count\\{queue="text",model="${layout}"\\} (\\d+)`).exec(metrics)?.[1]);
    const sum = Number(new RegExp(`embedder_batch_size_sum\\{queue="text",model="${layout}"\\} (\\d+)`).exec(metrics)?.[1]);
    expect(sum / count).toBeGreaterThan(2); // mean batch size across all text batches so far
    expect(metrics).toMatch(/embedder_model_info\{model="[^"]+",layout="\w+",provider="cpu",dim="32"\} 1/);
  });

  it('counts in /metrics which decoder produced each image, and why a JPEG left the native path', async () => {
    const card = sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 90, g: 140, b: 200 } } });
    const cmyk = await card.clone().toColourspace('cmyk').jpeg().toBuffer();
    const form = new FormData();
    form.append('a', new Blob([images.photo]), 'a.jpg');
    form.append('b', new Blob([await card.clone().jpeg({ progressive: true }).toBuffer()]), 'b.jpg');
    form.append('c', new Blob([cmyk]), 'c.jpg');
    form.append('d', new Blob([images.other]), 'd.png');
    const before = await (await fetch(`${embedder.url}/metrics`)).text();
    expect((await fetch(`${embedder.url}/v1/embed/image`, { method: 'POST', body: form })).status).toBe(200);
    const after = await (await fetch(`${embedder.url}/metrics`)).text();
    const count = (text: string, labels: string) =>
      Number(new RegExp(`embedder_image_decodes_total\\{${labels}\\} (\\d+)`).exec(text)?.[1] ?? 0);
    const added = (labels: string) => count(after, labels) - count(before, labels);
    expect(added('format="jpeg",decoder="native",declined=""')).toBe(2);
    expect(added('format="jpeg",decoder="libvips",declined="not greyscale or three-component"')).toBe(1);
    expect(added('format="png",decoder="libvips",declined=""')).toBe(1);
  });
});

describe('embedder input validation', () => {
  let embedder: ServiceProcess;
  let internal: Server;
  let internalUrl: string;
  beforeAll(async () => {
    internal = createServer((_, res) => res.end('secret'));
    await new Promise<void>((r) => internal.listen(0, '127.0.0.1', r));
    internalUrl = `http://127.0.0.1:${(internal.address() as AddressInfo).port}/admin`;
    embedder = await startService(
      'embedder/main.ts',
      { MODEL_DIR: join(modelsDir, 'tiny-hf'), EMBEDDER_PORT: '0', EMBEDDER_MAX_BODY_BYTES: String(2 * 1024 * 1024), EMBEDDER_MAX_ITEMS: '8' },
      'embedder ready',
    );
  });
  afterAll(async () => {
    await embedder?.stop();
    internal.close();
  });

  const jpeg = () => sharp({ create: { width: 64, height: 64, channels: 3, background: '#abcdef' } }).jpeg().toBuffer();
  const cases: [string, () => Promise<Response>, number, string][] = [
    ['a zero-byte image body', () => post(`${embedder.url}/v1/embed/image`, new Uint8Array(0), { 'content-type': 'image/png' }), 400, 'empty_image'],
    ['a truncated JPEG', async () => post(`${embedder.url}/v1/embed/image`, new Uint8Array((await jpeg()).subarray(0, 200)), { 'content-type': 'image/jpeg' }), 400, 'corrupt_image'],
    ['a text file named .png', () => {
      const form = new FormData();
      form.append('file', new Blob(['just some text, not an image']), 'photo.png');
      return fetch(`${embedder.url}/v1/embed/image`, { method: 'POST', body: form });
    }, 415, 'unsupported_image_format'],
    ['a 50,000 × 50,000 PNG header', () => post(`${embedder.url}/v1/embed/image`, new Uint8Array(pngHeader(50_000, 50_000)), { 'content-type': 'image/png' }), 413, 'image_too_large'],
    ['a huge JSON body', () => post(`${embedder.url}/v1/embed/text`, JSON.stringify({ texts: ['x'.repeat(3 * 1024 * 1024)] })), 413, 'body_too_large'],
    ['malformed JSON', () => post(`${embedder.url}/v1/embed/text`, '{"texts": ['), 400, 'invalid_json'],
    ['JSON that is not UTF-8', () => post(`${embedder.url}/v1/embed/text`, new Uint8Array([...Buffer.from('{"text":"'), 0xc3, 0x28, ...Buffer.from('"}')])), 400, 'invalid_json'],
    ['texts of the wrong type', () => post(`${embedder.url}/v1/embed/text`, { texts: [1, 2] }), 400, 'invalid_request'],
    ['too many items', () => post(`${embedder.url}/v1/embed/text`, { texts: Array(9).fill('a') }), 400, 'invalid_request'],
    ['a text over the length limit', () => post(`${embedder.url}/v1/embeddings`, { input: 'x'.repeat(5000) }), 400, 'invalid_request'],
    ['OpenAI token arrays', () => post(`${embedder.url}/v1/embeddings`, { input: [[1, 2, 3]] }), 400, 'invalid_request'],
    ['an unknown model name', () => post(`${embedder.url}/v1/embeddings`, { input: 'x', model: 'text-embedding-3-small' }), 404, 'model_not_found'],
    ['an image URL on loopback', () => post(`${embedder.url}/v1/embeddings`, { input: [{ image: internalUrl }] }), 403, 'url_forbidden'],
    ['the cloud metadata address', () => post(`${embedder.url}/v1/embeddings`, { input: [{ image: 'http://169.254.169.254/latest/meta-data/' }] }), 403, 'url_forbidden'],
    ['a file: URL posing as base64', () => post(`${embedder.url}/v1/embeddings`, { input: [{ image: 'file:///etc/passwd' }] }), 400, 'invalid_image'],
    ['a classify template without {}', () => post(`${embedder.url}/v1/classify`, { image: 'aGk=', labels: ['a', 'b'], template: 'nothing' }), 400, 'invalid_request'],
    ['an unknown route', () => fetch(`${embedder.url}/v2/nothing`), 404, 'not_found'],
  ];

  const limitNamed: Record<string, string> = {
    'too many items': 'EMBEDDER_MAX_ITEMS',
    'a text over the length limit': 'EMBEDDER_MAX_TEXT_CHARS',
    'a huge JSON body': 'EMBEDDER_MAX_BODY_BYTES',
    'a 50,000 × 50,000 PNG header': 'EMBEDDER_MAX_PIXELS',
  };

  it.each(cases)('answers %s with a clear JSON error and keeps serving', async (name, send, status, code) => {
    const response = await send();
    expect(response.status).toBe(status);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe(code);
    if (limitNamed[name]) expect(error.message).toContain(limitNamed[name]);
    // In the project's words: the decoders' own messages go to the log.
    expect(error.message).not.toMatch(/vips|libjpeg|libpng|spng/i);
    expect((await post(`${embedder.url}/v1/embed/text`, { text: 'still alive' })).status).toBe(200);
  });

  it('serves an OpenAPI document of its routes, whose request schemas are what the routes accept', async () => {
    interface Schema { properties?: Record<string, Schema>; items?: Schema; maxItems?: number; maxLength?: number; $ref?: string }
    const doc = (await (await fetch(`${embedder.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Schema }> } }>>;
      components: { schemas: Record<string, Schema> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/healthz',
      '/metrics',
      '/readyz',
      '/v1/classify',
      '/v1/embed/image',
      '/v1/embed/text',
      '/v1/embeddings',
      '/v1/models',
      '/v1/similarity',
    ]);
    const { $ref } = doc.paths['/v1/embed/text']!.post!.requestBody!.content['application/json']!.schema;
    const texts = doc.components.schemas[$ref!.split('/').at(-1)!]!.properties!.texts!;
    const maxItems = texts.maxItems!;
    expect(maxItems).toBe(8); // EMBEDDER_MAX_ITEMS of this embedder
    const maxChars = texts.items!.maxLength!;
    const embed = (body: unknown) => post(`${embedder.url}/v1/embed/text`, body);
    expect((await embed({ texts: Array(maxItems).fill('a') })).status).toBe(200);
    expect((await embed({ texts: Array(maxItems + 1).fill('a') })).status).toBe(400);
    expect((await embed({ texts: ['x'.repeat(maxChars)] })).status).toBe(200);
    expect((await embed({ texts: ['x'.repeat(maxChars + 1)] })).status).toBe(400);
  });
});

describe('embedder operations', () => {
  it('requires the bearer token on /v1 when EMBEDDER_TOKEN is set, and its own token on /metrics when EMBEDDER_METRICS_TOKEN is', async () => {
    const embedder = await startService(
      'embedder/main.ts',
      { MODEL_DIR: join(modelsDir, 'tiny-immich'), EMBEDDER_PORT: '0', EMBEDDER_TOKEN: 's3cret', EMBEDDER_METRICS_TOKEN: 'scraper' },
      'embedder ready',
    );
    try {
      for (const authorization of [undefined, 'Bearer s3cret', 'Bearer wrong']) {
        const refused = await fetch(`${embedder.url}/metrics`, { headers: authorization ? { authorization } : {} });
        expect(refused.status).toBe(401);
        expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      }
      const scraped = await fetch(`${embedder.url}/metrics`, { headers: { authorization: 'Bearer scraper' } });
      expect(await scraped.text()).toContain('embedder_requests_total');
      expect((await post(`${embedder.url}/v1/embed/text`, { text: 'x' }, { authorization: 'Bearer scraper' })).status).toBe(401);
      for (const authorization of [undefined, 'Basic czNjcmV0', 'Bearer wrong']) {
        const refused = await post(`${embedder.url}/v1/embed/text`, { text: 'x' }, authorization ? { authorization } : {});
        expect(refused.status).toBe(401);
        expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(await refused.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      }
      expect((await post(`${embedder.url}/v1/embed/text`, { text: 'x' }, { authorization: 'Bearer s3cret' })).status).toBe(200);
      expect((await fetch(`${embedder.url}/healthz`)).status).toBe(200);
    } finally {
      await embedder.stop();
    }
  });

  it('answers in JSON what its HTTP layer refuses: a body that never comes (408), oversized headers (431), malformed HTTP (400)', async () => {
    const embedder = await startService(
      'embedder/main.ts',
      { MODEL_DIR: join(modelsDir, 'tiny-hf'), EMBEDDER_PORT: '0', EMBEDDER_HEADERS_TIMEOUT_MS: '500', EMBEDDER_REQUEST_TIMEOUT_MS: '1000' },
      'embedder ready',
    );
    try {
      const promisedMore = await rawExchange(
        embedder.url,
        rawRequest('POST', '/v1/embed/text', { 'content-type': 'application/json', 'content-length': 100 }, '{"text":'),
      );
      expect([promisedMore.status, JSON.parse(promisedMore.body)]).toEqual([408, { error: { code: 'request_timeout', message: expect.stringMatching(/not received in time/) } }]);
      expect(promisedMore.elapsedMs).toBeLessThan(5000);
      const headersNeverEnd = await rawExchange(embedder.url, 'GET /healthz HTTP/1.1\r\nhost: localhost\r\n');
      expect(headersNeverEnd.status).toBe(408);
      const oversized = await rawExchange(embedder.url, rawRequest('GET', '/healthz', { 'x-padding': 'a'.repeat(20_000) }));
      expect([oversized.status, oversized.headers['content-type'], JSON.parse(oversized.body).error.code]).toEqual([431, 'application/json', 'headers_too_large']);
      const malformed = await rawExchange(embedder.url, 'NOT HTTP AT ALL\r\n\r\n');
      expect([malformed.status, JSON.parse(malformed.body).error.code]).toEqual([400, 'bad_request']);
      const backslash = await rawExchange(embedder.url, rawRequest('GET', '/v1\\models', { connection: 'close' }));
      expect([backslash.status, JSON.parse(backslash.body).error.code]).toEqual([400, 'bad_request']);
      expect((await post(`${embedder.url}/v1/embed/text`, { text: 'still serving' })).status).toBe(200);
      expect(embedder.logs.some((line) => line.includes('unhandled error'))).toBe(false);
    } finally {
      await embedder.stop();
    }
  });

  it('answers 429 with Retry-After when the queue is full, and recovers', async () => {
    const embedder = await startService(
      'embedder/main.ts',
      { MODEL_DIR: join(modelsDir, 'tiny-hf'), EMBEDDER_PORT: '0', EMBEDDER_MAX_QUEUE: '4', EMBEDDER_TEXT_BATCH: '1', EMBEDDER_BATCH_WAIT_MS: '0' },
      'embedder ready',
    );
    try {
      const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => post(`${embedder.url}/v1/embed/text`, { texts: [`t${i}`, 'x', 'y'] })));
      const rejected = burst.filter((r) => r.status === 429);
      expect(rejected.length).toBeGreaterThan(0);
      expect(Number(rejected[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(burst.every((r) => r.status === 200 || r.status === 429)).toBe(true);
      expect((await post(`${embedder.url}/v1/embed/text`, { text: 'after' })).status).toBe(200);
    } finally {
      await embedder.stop();
    }
  });

  it('on SIGTERM finishes the requests it accepted, then exits cleanly', async () => {
    // A long batch wait holds every request in the queue until shutdown starts.
    const embedder = await startService(
      'embedder/main.ts',
      { MODEL_DIR: join(modelsDir, 'tiny-hf'), EMBEDDER_PORT: '0', EMBEDDER_BATCH_WAIT_MS: '10000' },
      'embedder ready',
    );
    const inFlight = Array.from({ length: 10 }, (_, i) => post(`${embedder.url}/v1/embed/text`, { texts: [`a${i}`, `b${i}`, `c${i}`] }));
    await eventually(async () => {
      const metrics = await (await fetch(`${embedder.url}/metrics`)).text();
      return Number(/embedder_queue_depth\{queue="text",model="tiny-hf"\} (\d+)/.exec(metrics)?.[1] ?? 0) >= 30 ? true : undefined;
    }, 'all 30 texts queued', { intervalMs: 10 });
    const exit = embedder.stop('SIGTERM');
    const responses = await Promise.all(inFlight);
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(await exit).toBe(0);
    expect(embedder.logs.some((l) => l.includes('finishing queued work'))).toBe(true);
  });
});

describe('embedder requests whose client went away', () => {
  const MiB = 1024 * 1024;
  let embedder: ServiceProcess;
  beforeAll(async () => {
    embedder = await startService(
      'embedder/main.ts',
      {
        MODEL_DIR: join(modelsDir, 'tiny-hf'),
        EMBEDDER_PORT: '0',
        // Every 6000×6000 image needs the whole decode budget, so images decode one at a time and the rest wait in line.
        EMBEDDER_DECODE_BUDGET_BYTES: String(64 * MiB),
        EMBEDDER_DECODE_WAIT_MS: '60000',
        EMBEDDER_IMAGE_BATCH: '4',
        // Texts stay queued (for 10 s) while their clients come and go.
        EMBEDDER_BATCH_WAIT_MS: '10000',
      },
      'embedder ready',
    );
  });
  afterAll(async () => {
    await embedder?.stop();
  });

  /** A series' value in /metrics (0 while it has none). */
  const metric = async (series: string) => {
    const text = await (await fetch(`${embedder.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };
  const dropped = (queue: string) => metric(`embedder_dropped_items_total{queue="${queue}",model="tiny-hf",reason="cancelled"}`);

  it('never embeds an image whose client disconnected while it waited to be decoded, and counts it as dropped', async () => {
    const large = await Promise.all([1, 2, 3, 4].map((seed) => flatPng(6000, 6000, seed)));
    const form = new FormData();
    large.forEach((bytes, i) => form.append(`image${i}`, new Blob([bytes], { type: 'image/png' }), `${i}.png`));
    const kept = fetch(`${embedder.url}/v1/embed/image`, { method: 'POST', body: form });
    // Three of those four wait for the decode budget; the small image then waits behind them.
    await eventually(async () => ((await metric('embedder_decode_budget_waiting')) >= 3 ? true : undefined), 'the large images decoding', { intervalMs: 5 });
    const client = new AbortController();
    const abandoned = fetch(`${embedder.url}/v1/embed/image`, { method: 'POST', body: await flatPng(64, 64), headers: { 'content-type': 'image/png' }, signal: client.signal });
    await eventually(async () => ((await metric('embedder_decode_budget_waiting')) >= 4 ? true : undefined), 'the small image in line', { intervalMs: 5 });
    client.abort();
    await expect(abandoned).rejects.toThrow();

    expect((await kept).status).toBe(200);
    await eventually(async () => ((await dropped('image')) === 1 ? true : undefined), 'the abandoned image dropped');
    // The model saw the four large images only.
    expect(await metric('embedder_batch_size_sum{queue="image",model="tiny-hf"}')).toBe(4);
    expect(embedder.logs.some((line) => line.includes('unhandled error'))).toBe(false);
  });

  it('takes the texts of a similarity request out of the queue when its image turns out corrupt', async () => {
    const before = await dropped('text');
    const answer = await post(`${embedder.url}/v1/similarity`, {
      texts: ['left waiting', 'for a batch'],
      images: [Buffer.from(await truncatedJpeg(300)).toString('base64')],
    });
    expect([answer.status, ((await answer.json()) as { error: { code: string } }).error.code]).toEqual([400, 'corrupt_image']);
    await eventually(async () => ((await dropped('text')) === before + 2 ? true : undefined), 'the texts dropped');
    expect(await metric('embedder_queue_depth{queue="text",model="tiny-hf"}')).toBe(0);
  });

  it('takes the texts of a client that disconnected out of the queue', async () => {
    const before = await dropped('text');
    const client = new AbortController();
    // Answered when the embedder drains its queue at shutdown.
    const staying = post(`${embedder.url}/v1/embed/text`, { texts: ['a', 'b', 'c'] }).catch(() => undefined);
    const left = fetch(`${embedder.url}/v1/embed/text`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ texts: ['d', 'e'] }),
      signal: client.signal,
    });
    await eventually(async () => ((await metric('embedder_queue_depth{queue="text",model="tiny-hf"}')) === 5 ? true : undefined), 'five texts queued', { intervalMs: 5 });
    client.abort();
    await expect(left).rejects.toThrow();
    await eventually(async () => ((await dropped('text')) === before + 2 ? true : undefined), 'the abandoned texts dropped');
    expect(await metric('embedder_queue_depth{queue="text",model="tiny-hf"}')).toBe(3);
    expect(await metric('embedder_batch_size_count{queue="text",model="tiny-hf"}')).toBe(0);
    await embedder.stop();
    expect((await staying)?.status).toBe(200);
  });
});
