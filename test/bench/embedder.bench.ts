// npm run bench:embedder — the CLIP embedder on a full-size random ViT-B/32:
// preprocessing, bare ONNX Runtime vs the HTTP service at several batch
// sizes, and loadClip end to end vs transformers.js on the same files (in a
// process of its own: transformers-process.ts); then the same on a random
// SigLIP ViT-B/16 exported by PyTorch (siglip.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { loadClip } from '../../embedder/index.ts';
import { generate } from '../../embedder/model-gen/generate.ts';
import { gatherPooledRowEarly } from '../../embedder/runtime/pooled-rows.ts';
import { photoJpeg } from '../support/photo.ts';
import { startService } from '../support/service-process.ts';
import { sleep } from '../support/timing.ts';
import { cosine } from '../support/vectors.ts';
import { bestSeconds, printTable, printTargets, target, writeResults } from './harness.ts';
import { SIGLIP_BENCH_MODEL, siglipRows } from './siglip.ts';
import { interleave, perSecond } from './throughput.ts';
import { startTransformers } from './transformers-process.ts';

const MODELS = resolve('models');
const MODEL_NAME = 'random-vit-b-32-hf';
const modelDir = join(MODELS, MODEL_NAME);
const BATCHES = [1, 4, 16, 64];
const IMAGES_PER_POINT = Number(process.env.BENCH_IMAGES ?? 64);
// Rounds of the HTTP-against-bare comparisons; each side keeps its best.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const rows: Record<string, string | number>[] = [];

if (!existsSync(join(modelDir, 'onnx/vision_model.onnx'))) {
  console.log(`generating ${modelDir} (random weights, ViT-B/32 shapes)...`);
  generate({ arch: 'vit-b-32', outDir: MODELS, layouts: ['hf'] });
}

const QUERIES = ['a photo of a dog', 'sunset over mountains', 'red shoes', 'a bowl of ramen', 'city at night', 'two cats on a sofa', 'a vintage car', 'snowy forest'];
const texts = (n: number) => Array.from({ length: n }, (_, i) => QUERIES[i % QUERIES.length]!);

const clip = await loadClip(modelDir);
const small = await photoJpeg(640, 480, { seed: 1 });
const large = await photoJpeg(4000, 3000, { seed: 2 });
const photos = await Promise.all(Array.from({ length: 16 }, (_, i) => photoJpeg(640, 480, { seed: 10 + i })));
// Model-sized images: the HTTP rows then measure the service path (transport,
// multipart, batching), not preprocessing, which has rows of its own.
const thumbnails = await Promise.all(Array.from({ length: 16 }, (_, i) => photoJpeg(224, 224, { seed: 40 + i })));

// The reference, on the same directory, from here to the end-to-end rows.
const reference = await startTransformers(modelDir);

// ---- preprocessing -----------------------------------------------------------
const preprocessMs: Record<string, number> = {};
// Each side times its own call (transformers.js in its process), best of each.
const msOf = async (run: () => Promise<unknown>) => (await bestSeconds(1, run)) * 1000;
for (const [name, bytes, rounds] of [['640x480', small, 30], ['4000x3000', large, 10]] as const) {
  const { ours, theirs, fast } = await interleave(
    rounds,
    { ours: () => msOf(() => clip.preprocess(bytes)), theirs: () => reference.preprocessMs(bytes), fast: () => msOf(() => clip.preprocess(bytes, 'fast')) },
    'lowest',
  );
  preprocessMs[name] = theirs / ours;
  // transformers.js resizes with sharp, not Pillow: its pixels are close to ours, not equal.
  const toReference = cosine(await clip.preprocess(bytes), await reference.preprocess(bytes));
  rows.push({ section: 'preprocess', what: `${name} JPEG → 3×224×224 (cosine ${toReference.toFixed(5)} to transformers.js)`, batch: 1, ours: `${ours.toFixed(1)} ms`, reference: `${theirs.toFixed(1)} ms (transformers.js)`, ratio: theirs / ours });
  const agreement = cosine(await clip.preprocess(bytes), await clip.preprocess(bytes, 'fast'));
  rows.push({ section: 'preprocess', what: `${name}, decode 'fast' (cosine ${agreement.toFixed(5)} to exact)`, batch: 1, ours: `${fast.toFixed(1)} ms`, reference: `${theirs.toFixed(1)} ms (transformers.js)`, ratio: theirs / fast });
}

// ---- bare InferenceSession.run vs the HTTP service -----------------------------
// Bare runs use the graphs the service runs (the pooled-row rewrite of the exported ones), so that the
// HTTP rows measure the service's own cost; the rewrite's gain has rows of its own.
const options: InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', interOpNumThreads: 1 };
const bareSession = async (file: string, output: string, rewrite: boolean) => {
  const model = new Uint8Array(readFileSync(join(modelDir, file)));
  return InferenceSession.create(rewrite ? gatherPooledRowEarly(model, output)!.model : model, options);
};
const bareSessions = {
  vision: await bareSession('onnx/vision_model.onnx', 'image_embeds', true),
  text: await bareSession('onnx/text_model.onnx', 'text_embeds', true),
  visionExported: await bareSession('onnx/vision_model.onnx', 'image_embeds', false),
  textExported: await bareSession('onnx/text_model.onnx', 'text_embeds', false),
};
const pixels = await clip.preprocess(small);

async function bareImagesPerSecond(batch: number, session = bareSessions.vision): Promise<number> {
  const data = new Float32Array(batch * pixels.length);
  for (let i = 0; i < batch; i++) data.set(pixels, i * pixels.length);
  const feeds = { pixel_values: new Tensor('float32', data, [batch, 3, 224, 224]) };
  await session.run(feeds);
  const runs = Math.max(2, Math.ceil(IMAGES_PER_POINT / batch));
  const started = performance.now();
  for (let r = 0; r < runs; r++) await session.run(feeds);
  return (runs * batch) / ((performance.now() - started) / 1000);
}

async function bareTextsPerSecond(batch: number, session = bareSessions.text): Promise<number> {
  const tokens = clip.tokenize(texts(batch));
  const feeds = { input_ids: new Tensor('int64', BigInt64Array.from(tokens.ids, (v) => BigInt(v)), [batch, tokens.length]) };
  await session.run(feeds);
  const runs = Math.max(4, Math.ceil((IMAGES_PER_POINT * 4) / batch));
  const started = performance.now();
  for (let r = 0; r < runs; r++) await session.run(feeds);
  return (runs * batch) / ((performance.now() - started) / 1000);
}

// The rewrite's gain: the same bare loop on the rewritten and the exported graph, interleaved.
const rewriteGain = {
  images: await interleave(3, { rewritten: () => bareImagesPerSecond(16), exported: () => bareImagesPerSecond(16, bareSessions.visionExported) }),
  texts: await interleave(3, { rewritten: () => bareTextsPerSecond(16), exported: () => bareTextsPerSecond(16, bareSessions.textExported) }),
};
for (const [what, { rewritten, exported }] of [
  ['images/s, bare run, pooled-row graph vs as exported', rewriteGain.images],
  ['short texts/s, bare run, pooled-row graph vs as exported', rewriteGain.texts],
] as const)
  rows.push({ section: 'graph rewrite', what, batch: 16, ours: rewritten, reference: exported, ratio: rewritten / exported });
await bareSessions.visionExported.release();
await bareSessions.textExported.release();

/**
 * Items per second through HTTP: requests of `batch` items, two in flight. At least six requests, so
 * that filling the pipeline (the first upload and preprocessing, before any inference runs) stays a
 * small part of the time, as it is absent from the bare loop.
 */
async function httpPerSecond(send: () => Promise<Response>, batch: number, total: number): Promise<number> {
  await (await send()).arrayBuffer();
  const requests = Math.max(6, Math.ceil(total / batch));
  let next = 0;
  const worker = async () => {
    while (next++ < requests) {
      const response = await send();
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    }
  };
  const started = performance.now();
  await Promise.all([worker(), worker()]);
  return (requests * batch) / ((performance.now() - started) / 1000);
}

const embedder = await startService('embedder/main.ts', { MODEL_DIR: modelDir, EMBEDDER_PORT: '0', EMBEDDER_IMAGE_BATCH: '64', EMBEDDER_TEXT_BATCH: '128', EMBEDDER_BATCH_WAIT_MS: '2' }, 'embedder ready', 120_000);
const httpRatios: { images: Record<number, number>; texts: Record<number, number> } = { images: {}, texts: {} };
try {
  // The multipart body is encoded once: the load generator shares the two cores with the service,
  // and its own encoding is not the service's cost.
  const sendImages = async (images: Uint8Array[], batch: number) => {
    const form = new FormData();
    for (let i = 0; i < batch; i++) form.append(`f${i}`, new Blob([images[i % images.length]!]), 'p.jpg');
    const encoded = new Request(embedder.url, { method: 'POST', body: form });
    const headers = { 'content-type': encoded.headers.get('content-type')!, accept: 'application/octet-stream' };
    const body = new Uint8Array(await encoded.arrayBuffer());
    return () => fetch(`${embedder.url}/v1/embed/image`, { method: 'POST', body, headers });
  };
  for (const batch of BATCHES) {
    const [sendThumbnails, sendPhotos] = [await sendImages(thumbnails, batch), await sendImages(photos, batch)];
    const { bare, http, httpPhotos } = await interleave(ROUNDS, {
      bare: () => bareImagesPerSecond(batch),
      http: () => httpPerSecond(sendThumbnails, batch, IMAGES_PER_POINT),
      httpPhotos: () => httpPerSecond(sendPhotos, batch, IMAGES_PER_POINT),
    });
    httpRatios.images[batch] = http / bare;
    rows.push({ section: 'images/s', what: 'HTTP, 224×224 JPEGs vs bare run', batch, ours: http, reference: bare, ratio: http / bare });
    rows.push({ section: 'images/s', what: 'HTTP, 640×480 JPEGs (preprocessing shares the cores) vs bare run', batch, ours: httpPhotos, reference: bare, ratio: httpPhotos / bare });
  }
  for (const batch of BATCHES) {
    const body = JSON.stringify({ texts: texts(batch) });
    const sendTexts = () =>
      fetch(`${embedder.url}/v1/embed/text`, { method: 'POST', body, headers: { 'content-type': 'application/json', accept: 'application/octet-stream' } });
    const { bare, http } = await interleave(ROUNDS, { bare: () => bareTextsPerSecond(batch), http: () => httpPerSecond(sendTexts, batch, IMAGES_PER_POINT * 4) });
    httpRatios.texts[batch] = http / bare;
    rows.push({ section: 'texts/s', what: 'HTTP (tokenizing included) vs bare run', batch, ours: http, reference: bare, ratio: http / bare });
  }

  // A search query during a backfill: one short text at a time while two batch-64 image requests keep
  // the model busy. Each session has a thread of its own, so the query does not wait for the image batch.
  const sendQuery = async () => {
    const started = performance.now();
    const response = await fetch(`${embedder.url}/v1/embed/text`, {
      method: 'POST',
      body: JSON.stringify({ text: 'sunset over mountains' }),
      headers: { 'content-type': 'application/json', accept: 'application/octet-stream' },
    });
    await response.arrayBuffer();
    return performance.now() - started;
  };
  const queryLatencies = async (count: number) => {
    const ms: number[] = [];
    for (let i = 0; i < count; i++) ms.push(await sendQuery());
    return ms.sort((a, b) => a - b);
  };
  const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  const idle = await queryLatencies(30);
  const sendBackfill = await sendImages(photos, 64);
  const imageRequestMs: number[] = [];
  let backfilling = true;
  const backfill = async () => {
    while (backfilling) {
      const started = performance.now();
      await (await sendBackfill()).arrayBuffer();
      imageRequestMs.push(performance.now() - started);
    }
  };
  const backfillers = [backfill(), backfill()];
  await sleep(1500);
  const busy = await queryLatencies(30);
  backfilling = false;
  await Promise.all(backfillers);
  const imageMs = percentile(imageRequestMs.sort((a, b) => a - b), 0.5);
  rows.push({
    section: 'latency',
    what: `one short text during a backfill: p50 / p90 (idle: ${percentile(idle, 0.5).toFixed(1)} / ${percentile(idle, 0.9).toFixed(1)} ms) vs one batch-64 image request`,
    batch: 1,
    ours: `${percentile(busy, 0.5).toFixed(0)} / ${percentile(busy, 0.9).toFixed(0)} ms`,
    reference: `${imageMs.toFixed(0)} ms`,
    ratio: imageMs / percentile(busy, 0.9),
  });
} finally {
  await embedder.stop();
}
await bareSessions.vision.release();
await bareSessions.text.release();

// ---- end to end: loadClip vs transformers.js on the same directory ------------
const E2E_BATCH = 16;
const e2ePhotos = photos.slice(0, E2E_BATCH);
const e2eTexts = texts(E2E_BATCH);
const E2E_IMAGE_CALLS = Math.max(2, Math.floor(IMAGES_PER_POINT / E2E_BATCH));
const E2E_TEXT_CALLS = 16;
// The first photo's and text's embeddings on each side: both compute the same model (transformers.js
// resizes with sharp, not Pillow, so its image embedding is close to ours, not equal).
const agreement = {
  image: cosine((await clip.embedImages(e2ePhotos.slice(0, 1)))[0]!, (await reference.embedImages(e2ePhotos.slice(0, 1)))[0]!),
  text: cosine((await clip.embedTexts(e2eTexts.slice(0, 1)))[0]!, (await reference.embedTexts(e2eTexts.slice(0, 1)))[0]!),
};
// Both sides make exactly the same calls. One at a time is how transformers.js' documentation calls
// it; with two in flight, a batch can decode while the other runs (the service works that way).
// Images and texts are separate phases, so the garbage an image pass leaves is not collected in the
// middle of a text measurement.
const e2eImages = (inFlight: number) => ({
  ours: () => perSecond(E2E_BATCH, E2E_IMAGE_CALLS, () => clip.embedImages(e2ePhotos), inFlight),
  theirs: () => reference.imagesPerSecond(e2ePhotos, E2E_IMAGE_CALLS, inFlight),
});
const e2e = {
  images: await interleave(4, e2eImages(1)),
  imagesTwoInFlight: await interleave(2, e2eImages(2)),
  texts: await interleave(8, {
    ours: () => perSecond(E2E_BATCH, E2E_TEXT_CALLS, () => clip.embedTexts(e2eTexts)),
    theirs: () => reference.textsPerSecond(e2eTexts, E2E_TEXT_CALLS),
  }),
};
await reference.close();
const e2eRow = (what: string, { ours, theirs }: { ours: number; theirs: number }) =>
  rows.push({ section: 'end to end', what, batch: E2E_BATCH, ours, reference: theirs, ratio: ours / theirs });
const toReference = (cosineValue: number) => `cosine ${cosineValue.toFixed(5)} to transformers.js`;
e2eRow(`images/s (${toReference(agreement.image)}), loadClip vs transformers.js, one call at a time`, e2e.images);
e2eRow('images/s, the same with two calls in flight on each side', e2e.imagesTwoInFlight);
e2eRow(`short texts/s (${toReference(agreement.text)}), loadClip vs transformers.js, one call at a time`, e2e.texts);
await clip.close();
rows.push(...(await siglipRows(join(MODELS, SIGLIP_BENCH_MODEL), { batch: E2E_BATCH })));

console.log();
printTable(rows);
console.log();
const targets = [
  ...BATCHES.filter((b) => b >= 16).flatMap((b) => [
    target(`HTTP / bare images/s at batch ${b}`, httpRatios.images[b]!, 0.9),
    target(`HTTP / bare texts/s at batch ${b}`, httpRatios.texts[b]!, 0.9),
  ]),
  target('preprocessing speed-up over transformers.js, 640×480', preprocessMs['640x480']!, 2),
  target('preprocessing speed-up over transformers.js, 4000×3000', preprocessMs['4000x3000']!, 2),
  target('end-to-end images/s over transformers.js', e2e.images.ours / e2e.images.theirs, 1.2),
  target('end-to-end short texts/s over transformers.js', e2e.texts.ours / e2e.texts.theirs, 1.0),
];
printTargets(targets);
console.log(`\nwrote ${writeResults('embedder', { model: MODEL_NAME, provider: clip.provider, results: rows, targets })}`);
process.exit(0);
