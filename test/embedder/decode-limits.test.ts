// Decode memory: a small file declaring a huge image is refused before it is
// decoded (the decompression-ratio rule, PNG metadata bombs), and every decode
// in the process shares one pixel budget, so a flood of large images keeps
// the embedder's memory bounded: each request is answered 200, or 503 with
// Retry-After once the budget stayed spent, never with unbounded growth.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodeBudget, DecodeBudgetError } from '../../embedder/image/index.ts';
import { generate } from '../../embedder/model-gen/generate.ts';
import { flatPng, jpegDeclaring, pngWithTextBomb, pngZlibBomb } from '../security/hostile-images.ts';
import { temporaryDirectory } from '../support/files.ts';
import { startService, type ServiceProcess } from '../support/service-process.ts';
import { sleep } from '../support/timing.ts';

const MiB = 1024 * 1024;

describe('DecodeBudget', () => {
  it('admits decodes while they fit, first come first served, and refuses one that waited too long', async () => {
    const budget = new DecodeBudget(100, 200);
    const first = await budget.reserve(60);
    const order: string[] = [];
    const big = budget.reserve(80).then((release) => (order.push('big'), release));
    // Would fit beside the first, but the big one is ahead of it in line.
    const small = budget.reserve(30).then((release) => (order.push('small'), release));
    await sleep(20);
    expect([budget.inUseBytes, budget.waiting, order]).toEqual([60, 2, []]);
    first();
    const releaseBig = await big;
    expect(order).toEqual(['big']);
    const error = await small.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DecodeBudgetError);
    expect((error as DecodeBudgetError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    releaseBig();
    releaseBig(); // a second release returns nothing twice
    expect(budget.inUseBytes).toBe(0);
  });

  it('charges a decode larger than the whole budget the whole budget, so it runs alone rather than never', async () => {
    const budget = new DecodeBudget(100, 50);
    const huge = await budget.reserve(10_000);
    expect(budget.inUseBytes).toBe(100);
    await expect(budget.reserve(1)).rejects.toBeInstanceOf(DecodeBudgetError);
    huge();
    (await budget.reserve(1))();
  });
});

const modelsDir = temporaryDirectory('decode-limits-models-');
generate({ arch: 'tiny', outDir: modelsDir, seed: 13, layouts: ['hf'] });

/** The process's resident memory now and at its peak so far, in MiB (Linux /proc). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) / 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

describe('the embedder under decompression bombs and a flood of large images', () => {
  const budgetBytes = 256 * MiB;
  let embedder: ServiceProcess;
  beforeAll(async () => {
    embedder = await startService(
      'embedder/main.ts',
      {
        MODEL_DIR: join(modelsDir, 'tiny-hf'),
        EMBEDDER_PORT: '0',
        EMBEDDER_DECODE_BUDGET_BYTES: String(budgetBytes),
        EMBEDDER_DECODE_WAIT_MS: '1500',
      },
      'embedder ready',
    );
  });
  afterAll(async () => {
    await embedder?.stop();
  });

  const embedImage = async (bytes: Uint8Array) => {
    const response = await fetch(`${embedder.url}/v1/embed/image`, { method: 'POST', body: bytes, headers: { 'content-type': 'image/png' } });
    const body = (await response.json()) as { error?: { code: string; message: string } };
    return { status: response.status, retryAfter: response.headers.get('retry-after'), error: body.error };
  };

  it('refuses a 269-byte JPEG that declares 7000×7000 before decoding it, naming the rule', async () => {
    const started = performance.now();
    const answer = await embedImage(await jpegDeclaring(7000, 7000));
    expect(answer.status).toBe(413);
    expect(answer.error?.code).toBe('decompression_bomb');
    expect(answer.error?.message).toMatch(/7000x7000 .* pixels per byte .*EMBEDDER_MAX_PIXELS_PER_BYTE/);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('refuses a valid 6 KB PNG of 7000×7000 black pixels (zlib at its best) and a PNG whose zTXt inflates to 50 MB', async () => {
    expect(await embedImage(pngZlibBomb(7000, 7000))).toMatchObject({ status: 413, error: { code: 'decompression_bomb' } });
    expect(await embedImage(await pngWithTextBomb(50 * MiB))).toMatchObject({ status: 413, error: { code: 'decompression_bomb', message: expect.stringMatching(/metadata/) } });
  });

  it('still embeds a small image that compresses extremely well (under 4 Mpx the ratio is not checked)', async () => {
    expect((await embedImage(pngZlibBomb(1900, 1900))).status).toBe(200);
  });

  it('keeps memory within the budget under 24 concurrent 6000×6000 images and 8 bombs: every answer 200, 413 or 503 with Retry-After', async () => {
    const pid = embedder.child.pid!;
    const [images, bombs] = await Promise.all([
      Promise.all(Array.from({ length: 24 }, (_, i) => flatPng(6000, 6000, i))),
      Promise.all(Array.from({ length: 8 }, (_, i) => jpegDeclaring(7000 + i, 7000, i))),
    ]);
    expect((await embedImage(images[0]!)).status).toBe(200); // the decode path warmed up
    const before = memoryOf(pid);
    let sampled = before.rss;
    const sampler = setInterval(() => (sampled = Math.max(sampled, memoryOf(pid).rss)), 10);
    const answers = await Promise.all([...images, ...bombs].map(embedImage)).finally(() => clearInterval(sampler));
    const after = memoryOf(pid);

    const statuses = answers.map((a) => a.status);
    console.log(
      `24 images of 6000×6000 (${Math.round((6000 * 6000 * 3) / MiB)} MiB of RGB each) and 8 bombs: ` +
        `${statuses.filter((s) => s === 200).length} embedded, ${statuses.filter((s) => s === 503).length} refused with 503, ` +
        `${statuses.filter((s) => s === 413).length} bombs refused; RSS ${Math.round(before.rss)} MiB before, peak ${Math.round(Math.max(sampled, after.peak))} MiB ` +
        `(budget ${budgetBytes / MiB} MiB; unbounded, 24 decodes would hold ${Math.round((24 * 6000 * 6000 * 3) / MiB)} MiB)`,
    );
    for (const answer of answers) {
      if (answer.status === 503) expect([answer.error?.code, Number(answer.retryAfter)]).toEqual(['decode_budget_full', 1]);
      else if (answer.status === 413) expect(answer.error?.code).toBe('decompression_bomb');
      else expect(answer.status).toBe(200);
    }
    expect(statuses.slice(24)).toEqual(Array(8).fill(413));
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    // The budget counts decoded pixels; what the decoders and the resampler use besides, and buffers
    // not yet collected, fit in a margin far below another flood's worth.
    const margin = 256;
    expect(Math.max(sampled, after.peak)).toBeLessThan(Math.max(before.peak, before.rss + budgetBytes / MiB + margin));

    const metrics = await (await fetch(`${embedder.url}/metrics`)).text();
    expect(metrics).toMatch(/embedder_decode_budget_bytes\{state="in_use"\} 0\b/);
    expect(metrics).toContain(`embedder_decode_budget_bytes{state="capacity"} ${budgetBytes}`);
    expect((await embedImage(images[1]!)).status).toBe(200);
  });
});
