// The worker naming the model it wants of an embedder that serves several
// (EMBEDDER_MODELS): EMBEDDER_MODEL goes with every embedding call, so items
// and queries are embedded by that model, checked against exact cosine on
// that model's own embeddings; EMBEDDER_NEXT_MODEL lets a model migration run
// on one such embedder, each index filled by its own model.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../embedder/model-gen/generate.ts';
import { ensureIndex } from '../../scripts/worker/local.ts';
import { canonicalText } from '../../worker/lib/hash.ts';
import { temporaryDirectory } from '../support/files.ts';
import { cosine } from '../support/vectors.ts';
import { ADMIN_TOKEN, EMBEDDER_TOKEN, exactRanking, startStack, testImage, type Stack } from '../support/worker-stack.ts';

const models = temporaryDirectory('embedder-model-');
const [first] = generate({ arch: 'tiny', outDir: join(models, 'first'), seed: 31, layouts: ['hf'] });
const [second] = generate({ arch: 'tiny', outDir: join(models, 'second'), seed: 32, layouts: ['hf'] });
const TEXTS = ['a photo of a cat', 'sunset over mountains', 'a red sports car', 'bowl of fresh fruit', 'snowy forest at dawn'];

let stack: Stack;

interface SearchBody {
  results: { id: string; score: number }[];
  model: string | null;
}

/** Embeddings of one model, straight from the embedder. */
async function embedWith(model: string, texts: string[]): Promise<Float32Array[]> {
  const response = await fetch(`${stack.embedder.url}/v1/embed/text`, {
    method: 'POST',
    headers: { authorization: `Bearer ${EMBEDDER_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ texts, model }),
  });
  const body = (await response.json()) as { model: string; embeddings: number[][] };
  expect(body.model).toBe(model);
  return body.embeddings.map((e) => Float32Array.from(e));
}

/** Items of each queue the embedder has embedded with `model` so far, by its batch metrics. */
async function embeddedBy(model: string): Promise<{ text: number; image: number }> {
  const metrics = await (await fetch(`${stack.embedder.url}/metrics`)).text();
  const sum = (queue: string) => Number(new RegExp(`^embedder_batch_size_sum\\{queue="${queue}",model="${model}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
  return { text: sum('text'), image: sum('image') };
}

const admin = (base: string, path: string, body: unknown) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  stack = await startStack({
    modelDir: first!.dir,
    // One embedder, two models; this worker asks for the second, which is not the embedder's default.
    embedderEnv: { MODEL_DIR: '', EMBEDDER_MODELS: `first=${first!.dir},second=${second!.dir}` },
    vars: { EMBEDDER_MODEL: 'second' },
  });
});
afterAll(async () => {
  await stack?.close();
});

describe('EMBEDDER_MODEL', () => {
  it('has items and queries embedded by the model it names, never by the default', async () => {
    const before = { first: await embeddedBy('first'), second: await embeddedBy('second') };
    const base = stack.worker.url;
    const items = TEXTS.map((text, i) => ({ id: `t${i}`, text }));
    const written = await admin(base, '/v1/items', { items });
    expect(written.status, await written.clone().text()).toBe(202);

    const vectors = await embedWith('second', TEXTS);
    const query = 'a cat in the sun';
    const response = await fetch(`${base}/v1/search?q=${encodeURIComponent(query)}&k=3`);
    const body = (await response.json()) as SearchBody;
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body.model).toBe('second');
    const [queryVector] = await embedWith('second', [canonicalText(query)]);
    const expected = exactRanking(queryVector!, items.map(({ id }, i) => ({ id, vector: vectors[i]! }))).slice(0, 3);
    expect(body.results.map((r) => r.id)).toEqual(expected.map((e) => e.id));
    body.results.forEach((r, i) => expect(r.score).toBeCloseTo(expected[i]!.score, 4));

    // Images too: an image item, then a search with that image, both embedded by the second model, meet at cosine 1.
    const image = await testImage(4);
    const dataUrl = `data:image/png;base64,${Buffer.from(image).toString('base64')}`;
    expect((await admin(base, '/v1/items', { items: [{ id: 'img', image: dataUrl }] })).status).toBe(202);
    const byImage = await fetch(`${base}/v1/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image: dataUrl, k: 1 }),
    });
    const imageBody = (await byImage.json()) as SearchBody;
    expect([imageBody.model, imageBody.results[0]?.id]).toEqual(['second', 'img']);
    expect(imageBody.results[0]!.score).toBeGreaterThan(0.9999);

    expect(await embeddedBy('first')).toEqual(before.first);
    const after = await embeddedBy('second');
    expect(after.text).toBeGreaterThan(before.second.text);
    expect(after.image).toBeGreaterThan(before.second.image);
  });

  it('left unset, the embedder’s default model (the first it lists) embeds', async () => {
    const worker = await stack.addWorker({ vars: { EMBEDDER_MODEL: '' } });
    try {
      const body = (await (await fetch(`${worker.url}/v1/search?q=${encodeURIComponent('fresh fruit')}&k=1`)).json()) as SearchBody;
      expect(body.model).toBe('first');
    } finally {
      await worker.close();
    }
  });

  it('naming a model the embedder does not serve, answers 502 naming those it serves', async () => {
    const worker = await stack.addWorker({ vars: { EMBEDDER_MODEL: 'third' } });
    try {
      const response = await fetch(`${worker.url}/v1/search?q=cat`);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect([response.status, error.code]).toEqual([502, 'embedder_error']);
      expect(error.message).toContain('"third"');
      expect(error.message).toContain('"first", "second"');
    } finally {
      await worker.close();
    }
  });
});

describe('EMBEDDER_NEXT_MODEL', () => {
  it('runs a model migration on one embedder: each index filled by its own model', async () => {
    const nextIndexUrl = stack.indexUrl.replace(/\/[^/]+$/, '/search-next');
    await ensureIndex({ indexUrl: nextIndexUrl, dimensions: stack.dim });
    // No EMBEDDER_NEXT_URLS: the next model is asked of the same embedder.
    const worker = await stack.addWorker({ next: { vectorizeUrl: nextIndexUrl, embedderUrls: [] }, vars: { EMBEDDER_NEXT_MODEL: 'first' } });
    try {
      const written = await admin(worker.url, '/v1/items', { items: [{ id: 'both', text: 'a quiet harbour' }] });
      expect(written.status, await written.clone().text()).toBe(202);
      const [[viaSecond], [viaFirst]] = await Promise.all([embedWith('second', ['a quiet harbour']), embedWith('first', ['a quiet harbour'])]);
      for (const [indexUrl, model, vector] of [
        [stack.indexUrl, 'second', viaSecond!],
        [nextIndexUrl, 'first', viaFirst!],
      ] as const) {
        const response = await fetch(`${indexUrl}/get_by_ids`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: ['both'] }) });
        const [stored] = ((await response.json()) as { result: { values: number[]; metadata: Record<string, unknown> }[] }).result;
        expect(stored!.metadata.model).toBe(model);
        expect(cosine(stored!.values, vector)).toBeGreaterThan(0.99999);
      }
    } finally {
      await worker.close();
    }
  });
});
