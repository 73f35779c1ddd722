// One embedder process serving several models (EMBEDDER_MODELS), over HTTP:
// each request's `model` picks the model, whose answers are those of an
// embedder serving that model alone.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODEL_DIR } from '../../demo/model-banner.ts';
import { loadClip, type Clip } from '../../embedder/index.ts';
import { generate } from '../../embedder/model-gen/generate.ts';
import { RANDOM_WEIGHTS_KEY } from '../../embedder/model-gen/layout-common.ts';
import { modelNotice } from '../../embedder/service/model-notice.ts';
import { startService, type ServiceProcess } from '../support/service-process.ts';
import { temporaryDirectory } from '../support/files.ts';
import { cosine } from '../support/vectors.ts';

const modelsDir = temporaryDirectory('multi-model-');
// Two random-weight tiny CLIPs (32-d) that differ in seed and layout, and the trained demo model (64-d).
const [alphaLayout] = generate({ arch: 'tiny', outDir: join(modelsDir, 'alpha'), seed: 21, layouts: ['hf'] });
const [betaLayout] = generate({ arch: 'tiny', outDir: join(modelsDir, 'beta'), seed: 22, layouts: ['immich'] });
const dirs = { alpha: alphaLayout!.dir, beta: betaLayout!.dir, demo: DEMO_MODEL_DIR } as const;
type Name = keyof typeof dirs;
const NAMES = Object.keys(dirs) as Name[];
const demoManifest = JSON.parse(readFileSync(join(DEMO_MODEL_DIR, 'manifest.json'), 'utf8')) as { description: string };

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

interface ErrorBody {
  error: { code: string; message: string; type?: string; param?: string | null };
}

const texts = ['a red circle', 'sunset over mountains'];

describe('one embedder serving several models (EMBEDDER_MODELS)', () => {
  let embedder: ServiceProcess;
  let alone: ServiceProcess;
  let clips: Record<Name, Clip>;
  let photo: Uint8Array;
  beforeAll(async () => {
    const started = await Promise.all([
      startService(
        'embedder/main.ts',
        { EMBEDDER_MODELS: NAMES.map((name) => `${name}=${dirs[name]}`).join(','), MODEL_DIR: '', MODEL: '', EMBEDDER_PORT: '0', EMBEDDER_THREADS: '1' },
        'embedder ready',
      ),
      // The reference: an embedder serving beta alone, as it always could.
      startService('embedder/main.ts', { MODEL_DIR: dirs.beta, EMBEDDER_PORT: '0', EMBEDDER_THREADS: '1' }, 'embedder ready'),
      Promise.all(NAMES.map((name) => loadClip(dirs[name]))),
      sharp({ create: { width: 160, height: 120, channels: 3, background: { r: 220, g: 40, b: 40 } } }).jpeg().toBuffer(),
    ]);
    [embedder, alone] = started;
    clips = Object.fromEntries(NAMES.map((name, i) => [name, started[2][i]!])) as Record<Name, Clip>;
    photo = new Uint8Array(started[3]);
  });
  afterAll(async () => {
    await Promise.all([embedder?.stop(), alone?.stop()]);
    await Promise.all(Object.values(clips ?? {}).map((clip) => clip.close()));
  });

  it('lists every model in GET /v1/models, the default first, with a notice for the demo and the random-weight models', async () => {
    const { data } = (await (await fetch(`${embedder.url}/v1/models`)).json()) as {
      data: { id: string; object: string; dim: number; layout: string; family: string; notice?: string }[];
    };
    expect(data.map((m) => [m.id, m.object, m.dim, m.layout, m.family])).toEqual([
      ['alpha', 'model', 32, 'hf', 'clip'],
      ['beta', 'model', 32, 'immich', 'clip'],
      ['demo', 'model', 64, 'hf', 'clip'],
    ]);
    expect(data[0]!.notice).toMatch(/random weights/);
    expect(data[1]!.notice).toBe(data[0]!.notice);
    expect(data[2]!.notice).toContain('demo model');
    expect(data[2]!.notice).toContain(demoManifest.description);
    // Served alone, a model keeps its directory's name.
    const { data: single } = (await (await fetch(`${alone.url}/v1/models`)).json()) as { data: { id: string; notice?: string }[] };
    expect(single.map((m) => [m.id, m.notice])).toEqual([['tiny-immich', data[0]!.notice]]);
  });

  it('gives no notice for a model that is neither the demo model nor generated', () => {
    const trained = join(modelsDir, 'trained');
    cpSync(dirs.alpha, trained, { recursive: true });
    const config = JSON.parse(readFileSync(join(trained, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(modelNotice(trained)).toMatch(/random weights/);
    delete config[RANDOM_WEIGHTS_KEY];
    writeFileSync(join(trained, 'config.json'), JSON.stringify(config));
    expect(modelNotice(trained)).toBeUndefined();
  });

  it('embeds texts and images with the model each request names, at its dimensions, the default when none is named', async () => {
    for (const name of NAMES) {
      const clip = clips[name];
      const response = await post(`${embedder.url}/v1/embed/text`, { texts, model: name });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { model: string; dim: number; embeddings: number[][] };
      expect([body.model, body.dim, body.embeddings[0]!.length]).toEqual([name, clip.dim, clip.dim]);
      const direct = await clip.embedTexts(texts);
      body.embeddings.forEach((e, i) => expect(cosine(e, direct[i]!)).toBeGreaterThan(0.99999));

      const image = await fetch(`${embedder.url}/v1/embed/image?model=${name}`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg', accept: 'application/octet-stream' },
        body: photo,
      });
      expect(image.headers.get('x-embedding-dim')).toBe(String(clip.dim));
      const [directImage] = await clip.embedImages([photo]);
      expect(cosine(new Float32Array(await image.arrayBuffer()), directImage!)).toBeGreaterThan(0.99999);
    }
    const unnamed = (await (await post(`${embedder.url}/v1/embed/text`, { texts })).json()) as { model: string; embeddings: number[][] };
    expect(unnamed.model).toBe('alpha');
    const alpha = await clips.alpha.embedTexts(texts);
    expect(cosine(unnamed.embeddings[0]!, alpha[0]!)).toBeGreaterThan(0.99999);
    // Two models of the same size, two embedding spaces.
    const beta = await clips.beta.embedTexts(texts);
    expect(Math.abs(cosine(alpha[0]!, beta[0]!))).toBeLessThan(0.9);
  });

  it('answers for a model exactly what an embedder serving that model alone answers', async () => {
    const text = async (url: string, body: object) => (await (await post(`${url}/v1/embed/text`, { texts, ...body })).json()) as { embeddings: number[][] };
    expect((await text(embedder.url, { model: 'beta' })).embeddings).toEqual((await text(alone.url, {})).embeddings);
    const image = async (url: string, query: string) =>
      new Float32Array(await (await fetch(`${url}/v1/embed/image${query}`, { method: 'POST', headers: { 'content-type': 'image/jpeg', accept: 'application/octet-stream' }, body: photo })).arrayBuffer());
    expect(await image(embedder.url, '?model=beta')).toEqual(await image(alone.url, ''));
    const classify = async (url: string, body: object) =>
      (await post(`${url}/v1/classify`, { image: Buffer.from(photo).toString('base64'), labels: ['circle', 'square', 'star'], ...body })).json();
    const [together, single] = await Promise.all([classify(embedder.url, { model: 'beta' }), classify(alone.url, {})]);
    expect({ ...(together as object), model: 'same' }).toEqual({ ...(single as object), model: 'same' });
  });

  it('scores with the named model: similarity and zero-shot classification', async () => {
    const b64 = Buffer.from(photo).toString('base64');
    const similarity = (await (await post(`${embedder.url}/v1/similarity`, { texts, images: [b64], model: 'demo' })).json()) as {
      model: string;
      scores: number[][];
    };
    const [t, [v]] = await Promise.all([clips.demo.embedTexts(texts), clips.demo.embedImages([photo])]);
    expect(similarity.model).toBe('demo');
    similarity.scores.forEach((row, i) => expect(row[0]).toBeCloseTo(cosine(t[i]!, v!), 5));

    const classified = (await (await post(`${embedder.url}/v1/classify`, { image: b64, labels: ['red', 'green', 'blue'], template: 'a {} circle', model: 'demo' })).json()) as {
      model: string;
      labels: { label: string; probability: number }[];
    };
    expect(classified.model).toBe('demo');
    expect(classified.labels.reduce((sum, l) => sum + l.probability, 0)).toBeCloseTo(1, 5);
  });

  it('refuses a model it does not serve, naming those it does, on every route, and keeps serving', async () => {
    const b64 = Buffer.from(photo).toString('base64');
    const refusals = [
      post(`${embedder.url}/v1/embed/text`, { text: 'x', model: 'gamma' }),
      fetch(`${embedder.url}/v1/embed/image?model=gamma`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: photo }),
      post(`${embedder.url}/v1/similarity`, { texts: ['x'], images: [b64], model: 'gamma' }),
      post(`${embedder.url}/v1/classify`, { image: b64, labels: ['a', 'b'], model: 'gamma' }),
      post(`${embedder.url}/v1/embeddings`, { input: 'x', model: 'gamma' }),
    ];
    for (const response of await Promise.all(refusals)) {
      expect(response.status).toBe(404);
      const { error } = (await response.json()) as ErrorBody;
      expect(error.code).toBe('model_not_found');
      expect(error.message).toBe('model "gamma" is not served here; this embedder serves "alpha", "beta", "demo"');
    }
    // The OpenAI route answers in OpenAI's error shape, which its clients read.
    const openAi = (await (await post(`${embedder.url}/v1/embeddings`, { input: 'x', model: 'gamma' })).json()) as ErrorBody;
    expect(openAi.error).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'model_not_found' });
    expect((await post(`${embedder.url}/v1/embed/text`, { text: 'still serving', model: 'beta' })).status).toBe(200);
  });

  it('works with the official openai client for each model, and tells it of an unknown one', async () => {
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${embedder.url}/v1` });
    for (const name of NAMES) {
      const result = await client.embeddings.create({ model: name, input: texts });
      expect(result.model).toBe(name);
      const direct = await clips[name].embedTexts(texts);
      result.data.forEach((d, i) => {
        expect(d.embedding).toHaveLength(clips[name].dim);
        expect(cosine(d.embedding, direct[i]!)).toBeGreaterThan(0.99999);
      });
    }
    const refused = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.NotFoundError);
    expect((refused as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });

  it('reports every model in /readyz and /metrics, and logged what each load cost in memory', async () => {
    const ready = (await (await fetch(`${embedder.url}/readyz`)).json()) as { status: string; model: string; models: { id: string; ready: boolean }[] };
    expect(ready).toMatchObject({ status: 'ready', model: 'alpha' });
    expect(ready.models.map((m) => [m.id, m.ready])).toEqual(NAMES.map((name) => [name, true]));

    await Promise.all(NAMES.map((name) => post(`${embedder.url}/v1/embed/text`, { text: 'counted', model: name })));
    const metrics = await (await fetch(`${embedder.url}/metrics`)).text();
    for (const name of NAMES) {
      expect(Number(new RegExp(`^embedder_batch_size_count\\{queue="text",model="${name}"\\} (\\d+)$`, 'm').exec(metrics)?.[1])).toBeGreaterThan(0);
      expect(metrics).toMatch(new RegExp(`^embedder_model_info\\{model="${name}",layout="\\w+",provider="cpu",dim="${clips[name].dim}"\\} 1$`, 'm'));
    }

    const loads = embedder.logs.flatMap((line) => {
      try {
        const entry = JSON.parse(line) as { model?: string; rssBeforeMiB?: number; rssAfterMiB?: number; onnxMiB?: Record<string, number> };
        return entry.rssBeforeMiB !== undefined ? [entry] : [];
      } catch {
        return [];
      }
    });
    expect(loads.map((l) => l.model)).toEqual(NAMES);
    for (const load of loads) {
      expect(load.rssAfterMiB).toBeGreaterThan(0);
      expect(Object.keys(load.onnxMiB!).sort()).toEqual(['text', 'vision']);
      expect(load.onnxMiB!.text).toBeGreaterThan(0);
    }
  });

  it('documents the model field of every route in /openapi.json', async () => {
    interface Schema { properties?: Record<string, unknown>; $ref?: string }
    const doc = (await (await fetch(`${embedder.url}/openapi.json`)).json()) as {
      paths: Record<string, { post?: { parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, { schema: Schema }> } } }>;
      components: { schemas: Record<string, Schema> };
    };
    for (const path of ['/v1/embed/text', '/v1/embeddings', '/v1/similarity', '/v1/classify']) {
      const { $ref } = doc.paths[path]!.post!.requestBody!.content['application/json']!.schema;
      expect(doc.components.schemas[$ref!.split('/').at(-1)!]!.properties).toHaveProperty('model');
    }
    expect(doc.paths['/v1/embed/image']!.post!.parameters).toContainEqual(expect.objectContaining({ name: 'model', in: 'query' }));
  });
});

/** The message of the fatal log line among a failed start's logs. */
function fatalMessage(failure: string): string | undefined {
  for (const line of failure.split('\n')) {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      if (entry.level === 60) return entry.msg;
    } catch {
      // not a log line
    }
  }
  return undefined;
}

describe('EMBEDDER_MODELS that cannot be served fail the start with a message naming the problem', () => {
  const tiny = () => dirs.alpha;
  const cases: [string, Record<string, string>, RegExp][] = [
    ['an entry without =', { EMBEDDER_MODELS: `alpha=${tiny()},beta` }, /EMBEDDER_MODELS: "beta" is not name=dir/],
    ['a name outside the safe characters', { EMBEDDER_MODELS: `my model=${tiny()}` }, /EMBEDDER_MODELS: model name "my model" must be 1 to 128 letters, digits/],
    ['a name given twice', { EMBEDDER_MODELS: `alpha=${tiny()},alpha=${dirs.beta}` }, /EMBEDDER_MODELS: model name "alpha" is given twice/],
    ['an empty entry', { EMBEDDER_MODELS: `alpha=${tiny()},,beta=${dirs.beta}` }, /EMBEDDER_MODELS: entry 2 is empty/],
    ['a name without a directory', { EMBEDDER_MODELS: 'alpha=' }, /EMBEDDER_MODELS: model "alpha" has no directory/],
    ['MODEL_DIR as well', { EMBEDDER_MODELS: `alpha=${tiny()}`, MODEL_DIR: tiny() }, /EMBEDDER_MODELS and MODEL_DIR are both set/],
    ['a directory that holds no model', { EMBEDDER_MODELS: `alpha=${tiny()},broken=${modelsDir}` }, /model "broken" \([^)]+\) could not be loaded: model directory .* has neither/],
  ];

  it.each(cases)('%s', async (_, env, message) => {
    const start = startService('embedder/main.ts', { MODEL_DIR: '', MODEL: '', EMBEDDER_PORT: '0', EMBEDDER_THREADS: '1', ...env }, 'embedder ready');
    const failure = await start.then(
      async (service) => {
        await service.stop();
        return 'it started';
      },
      (error: unknown) => String(error),
    );
    expect(failure).toMatch(/exited with 1 before it was ready/);
    expect(fatalMessage(failure)).toMatch(message);
  });
});
