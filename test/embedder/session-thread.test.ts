// ONNX Runtime sessions on their own threads: the same outputs as a session on
// the calling thread, an event loop that keeps turning during a run, errors
// that leave the thread serving, and a thread that never holds the process.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../embedder/model-gen/generate.ts';
import { SessionThread } from '../../embedder/runtime/session-thread.ts';
import { temporaryDirectory } from '../support/files.ts';
import { randomPixelBatch } from '../support/vectors.ts';
import { seededRandom } from '../support/random.ts';

const dir = temporaryDirectory('session-thread-');
generate({ arch: 'tiny', outDir: dir, seed: 5, layouts: ['hf'] });
const visionModel = join(dir, 'tiny-hf/onnx/vision_model.onnx');
const pixels = (batch: number) => new Tensor('float32', randomPixelBatch(batch, seededRandom(batch)), [batch, 3, 224, 224]);

describe('a session on its own thread', () => {
  let thread: SessionThread;
  beforeAll(async () => {
    thread = await SessionThread.open(visionModel, { executionProviders: ['cpu'] });
  });
  afterAll(() => thread.release());

  it('describes its inputs and outputs and gives the outputs of a session on the calling thread', async () => {
    const local = await InferenceSession.create(visionModel, { executionProviders: ['cpu'] });
    expect(thread.inputNames).toEqual(local.inputNames);
    expect(thread.outputNames).toEqual(local.outputNames);
    expect(thread.inputMetadata).toEqual(local.inputMetadata);
    const feeds = { pixel_values: pixels(4) };
    const [ours, theirs] = [await thread.run(feeds, ['image_embeds']), await local.run(feeds, ['image_embeds'])];
    expect(ours.image_embeds!.dims).toEqual(theirs.image_embeds!.dims);
    expect(Array.from(ours.image_embeds!.data as Float32Array)).toEqual(Array.from(theirs.image_embeds!.data as Float32Array));
    await local.release();
  });

  it('leaves the caller its input buffers', async () => {
    const input = pixels(2);
    await thread.run({ pixel_values: input }, ['image_embeds']);
    expect((input.data as Float32Array).length).toBe(2 * 3 * 224 * 224);
  });

  it('keeps the event loop turning while a run is in flight', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = performance.now();
    await thread.run({ pixel_values: new Tensor('float32', new Float32Array(256 * 3 * 224 * 224).fill(0.5), [256, 3, 224, 224]) }, ['image_embeds']);
    const elapsed = performance.now() - started;
    clearInterval(timer);
    // On the calling thread ONNX Runtime would hold the loop for the whole run, and no timer would fire.
    expect(elapsed).toBeGreaterThan(30);
    expect(ticks).toBeGreaterThanOrEqual(2);
  });

  it('answers a bad feed with the runtime error and keeps serving', async () => {
    const wrong = { pixel_values: new Tensor('float32', new Float32Array(3 * 8 * 8), [1, 3, 8, 8]) };
    await expect(thread.run(wrong, ['image_embeds'])).rejects.toThrow(/pixel_values|dimension|shape|Got invalid/i);
    const ok = await thread.run({ pixel_values: pixels(1) }, ['image_embeds']);
    expect(ok.image_embeds!.dims).toEqual([1, 32]);
  });
});

describe('opening and closing', () => {
  it('refuses a file that is not a model, with the runtime reason', async () => {
    const notModel = join(dir, 'not-a-model.onnx');
    writeFileSync(notModel, 'this is not protobuf');
    await expect(SessionThread.open(notModel, { executionProviders: ['cpu'] })).rejects.toThrow(/protobuf|parse|load model/i);
  });

  it('ends the thread on release; later runs fail and a second release is harmless', async () => {
    const thread = await SessionThread.open(visionModel, { executionProviders: ['cpu'] });
    await thread.release();
    await thread.release();
    await expect(thread.run({ pixel_values: pixels(1) }, ['image_embeds'])).rejects.toThrow(/session thread/);
  });

  it('does not keep the process alive when idle', async () => {
    const script = join(dir, 'idle.mts'); // an ES module wherever it lies
    const module = new URL('../../embedder/runtime/session-thread.ts', import.meta.url).pathname;
    writeFileSync(
      script,
      `import { SessionThread } from ${JSON.stringify(module)};\n` +
        `const s = await SessionThread.open(${JSON.stringify(visionModel)}, { executionProviders: ['cpu'] });\n` +
        `const { Tensor } = await import(${JSON.stringify(createRequire(import.meta.url).resolve('onnxruntime-node'))});\n` +
        `const out = await s.run({ pixel_values: new Tensor('float32', new Float32Array(3 * 224 * 224), [1, 3, 224, 224]) }, ['image_embeds']);\n` +
        `console.log('dims', out.image_embeds.dims.join('x'));\n`,
    );
    // Never released: the script must still end by itself once its last run is done.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { timeout: 60_000 });
    expect(stdout).toContain('dims 1x32');
  });
});
