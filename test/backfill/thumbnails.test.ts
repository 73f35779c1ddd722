// backfill --thumbnails end to end, as real processes: the CLI (through its
// bin entry), the embedder on a generated tiny CLIP, the local index and the
// search worker in workerd with its THUMBNAILS R2 bucket. Each image's
// thumbnail is fetched back from the worker and decoded with sharp.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporaryDirectory } from '../support/files.ts';
import { ADMIN_TOKEN, EMBEDDER_TOKEN, startStack, type Stack } from '../support/worker-stack.ts';
import { runCli, summaryOf } from './cli.ts';

const tmp = temporaryDirectory('backfill-thumbnails-');
let stack: Stack;
let env: Record<string, string>;

const contentId = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex').slice(0, 32);
const backfill = (args: string[], extra: Record<string, string> = {}) => runCli(args, { cwd: tmp, env: { ...env, ...extra } });
type Image = ReturnType<typeof sharp>;
const thumbnailUrl = (id: string, base = stack.worker.url) => `${base}/v1/items/${encodeURIComponent(id)}/thumbnail`;

/** A picture of `width` × `height` with a disc on a background, so that it is not one flat colour. */
async function picture(width: number, height: number, format: 'png' | 'jpeg' | 'webp', seed: number): Promise<Image> {
  const disc = `<svg width="${width}" height="${height}"><circle cx="${width / 3}" cy="${height / 2}" r="${Math.min(width, height) / 4}" fill="rgb(${seed * 40},90,200)"/></svg>`;
  const png = await sharp({ create: { width, height, channels: 3, background: { r: 240, g: seed * 30, b: 20 } } })
    .composite([{ input: Buffer.from(disc) }])
    .png()
    .toBuffer();
  return sharp(png)[format]();
}

interface Case {
  file: string;
  bytes: Uint8Array;
  /** The thumbnail's size: the upright image's, fitted inside 256 × 256, never enlarged. */
  width: number;
  height: number;
}
const cases: Case[] = [];

beforeAll(async () => {
  stack = await startStack();
  env = { EMBEDDER_URL: stack.embedder.url, EMBEDDER_TOKEN, WORKER_URL: stack.worker.url, ADMIN_TOKEN };
  const made: [string, Image, number, number][] = [
    ['wide.png', await picture(600, 300, 'png', 1), 256, 128],
    ['tall.webp', await picture(300, 900, 'webp', 2), 85, 256],
    ['small.jpg', await picture(100, 80, 'jpeg', 3), 100, 80],
    // Stored 200 × 400, shown turned a quarter (EXIF orientation 6): upright it is 400 × 200.
    ['turned.jpg', (await picture(200, 400, 'jpeg', 4)).withMetadata({ orientation: 6 }), 256, 128],
  ];
  mkdirSync(join(tmp, 'photos'));
  for (const [file, image, width, height] of made) {
    const bytes = new Uint8Array(await image.toBuffer());
    writeFileSync(join(tmp, 'photos', file), bytes);
    cases.push({ file, bytes, width, height });
  }
  writeFileSync(join(tmp, 'photos', 'notes.txt'), 'not an image');
}, 180_000);

afterAll(() => stack?.close());

describe('backfill --thumbnails', () => {
  it('refuses targets that cannot store thumbnails before it starts', async () => {
    for (const target of ['local', 'cloudflare', 'queue']) {
      const { code, stderr } = await backfill(['photos', '--target', target, '--thumbnails']);
      expect(code, target).toBe(2);
      expect(stderr, target).toMatch(/^crossmodal-backfill: --thumbnails needs --target worker: /m);
    }
  });

  it('counts the thumbnails it would make in a dry run', async () => {
    const { code, stdout, stderr } = await backfill(['photos', '--target', 'worker', '--thumbnails', '--dry-run']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/4 images to index .*4 WebP thumbnails to make \(at most 256 px on the long side/);
  });

  it('stores a WebP of at most 256 px per image with its item, upright, aspect kept, never enlarged', async () => {
    // First without: the items are indexed and have no thumbnail.
    const plain = await backfill(['photos', '--target', 'worker']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(summaryOf(plain.stdout)).toMatchObject({ indexed: 4, failed: 0 });
    for (const { bytes } of cases) expect((await fetch(thumbnailUrl(contentId(bytes)))).status).toBe(404);

    // With thumbnails, the checkpoint of the plain run does not apply: every item is sent again.
    const { code, stdout, stderr } = await backfill(['photos', '--target', 'worker', '--thumbnails']);
    expect(code, stderr).toBe(0);
    expect(summaryOf(stdout)).toMatchObject({ indexed: 4, skipped: 0, failed: 0 });
    for (const { file, bytes, width, height } of cases) {
      const id = contentId(bytes);
      expect((await fetch(`${stack.worker.url}/v1/items/${id}`)).status, file).toBe(200);
      const response = await fetch(thumbnailUrl(id));
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type'), file).toBe('image/webp');
      const thumbnail = Buffer.from(await response.arrayBuffer());
      const decoded = await sharp(thumbnail).metadata();
      expect(decoded.format, file).toBe('webp');
      expect(decoded.orientation ?? 1, file).toBe(1);
      expect(Math.max(decoded.width, decoded.height), file).toBeLessThanOrEqual(256);
      expect(Math.abs(decoded.width - width), `${file}: ${decoded.width} × ${decoded.height}`).toBeLessThanOrEqual(1);
      expect(Math.abs(decoded.height - height), `${file}: ${decoded.width} × ${decoded.height}`).toBeLessThanOrEqual(1);
    }

    // A rerun with thumbnails has nothing left to send.
    const again = await backfill(['photos', '--target', 'worker', '--thumbnails']);
    expect(again.code, again.stderr).toBe(0);
    expect(summaryOf(again.stdout)).toMatchObject({ indexed: 0, skipped: 4 });
  });

  it('stops with a one-line reason when the worker has no THUMBNAILS binding', async () => {
    const bare = await stack.addWorker({ thumbnails: false });
    try {
      const { code, stdout, stderr } = await backfill(['photos', '--target', 'worker', '--thumbnails', '--worker-url', bare.url, '--checkpoint', join(tmp, 'bare.checkpoint')]);
      expect(code, stdout).toBe(1);
      expect(stderr).toMatch(/^crossmodal-backfill: .*HTTP 500 misconfigured: .*no THUMBNAILS binding/m);
    } finally {
      await bare.close();
    }
  });
});
