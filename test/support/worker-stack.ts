// The search worker's local stack for tests and the benchmark: the embedder
// (tiny random CLIP) and the local index as child processes, and the worker
// in workerd through Miniflare, wired as `npm run worker:dev` wires them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { generate } from '../../embedder/model-gen/generate.ts';
import { bundleWorker } from '../../scripts/worker/bundle.ts';
import { embedderDimensions, ensureIndex, startLocalWorker, type EnsureIndexOptions, type LocalWorker, type LocalWorkerOptions } from '../../scripts/worker/local.ts';
import { spawnIndexServer, type SpawnedServer } from './index-server.ts';
import { startService, type ServiceProcess } from './service-process.ts';
import { sleep } from './timing.ts';

/**
 * A restart must reuse the old port (the worker is configured with it), and in the moment
 * the port was free another process may have been given it: try again shortly.
 */
async function onSamePort<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt === 5 || !String(error).includes('EADDRINUSE')) throw error;
      await sleep(250);
    }
  }
}

export const ADMIN_TOKEN = 'test-admin-token';
export const EMBEDDER_TOKEN = 'test-embedder-token';

export interface StackOptions {
  /** Seed of the generated tiny model. */
  seed?: number;
  /** Use this model directory instead of generating the tiny model. */
  modelDir?: string;
  indexName?: string;
  metadataIndexes?: EnsureIndexOptions['metadataIndexes'];
  /** Worker settings (worker/config.ts). */
  vars?: Record<string, string>;
  rateLimit?: LocalWorkerOptions['rateLimit'];
  /** Extra embedder environment, e.g. { EMBEDDER_BATCH_WAIT_MS: '0' }. */
  embedderEnv?: Record<string, string>;
}

export interface Stack {
  embedder: ServiceProcess;
  index: SpawnedServer;
  /** The index's REST URL, as VECTORIZE_URL. */
  indexUrl: string;
  worker: LocalWorker;
  /** The worker bundle, for more workers on the same stack. */
  scriptPath: string;
  dim: number;
  /** Starts another worker on the same embedder and index. */
  addWorker(options?: Partial<LocalWorkerOptions>): Promise<LocalWorker>;
  /** Kills the embedder (SIGKILL) and starts it again on the same port when asked. */
  killEmbedder(): Promise<void>;
  restartEmbedder(): Promise<void>;
  killIndex(): Promise<void>;
  restartIndex(): Promise<void>;
  /** Requests the embedder has served on its embedding routes (its own counter). */
  embedderEmbedRequests(): Promise<number>;
  /** Reference embeddings straight from the embedder. */
  embedTexts(texts: string[]): Promise<Float32Array[]>;
  embedImage(bytes: Uint8Array): Promise<Float32Array>;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const tmp = mkdtempSync(join(tmpdir(), 'worker-stack-'));
  if (!options.modelDir) generate({ arch: 'tiny', outDir: tmp, seed: options.seed ?? 7, layouts: ['hf'] });
  const embedderEnv = {
    MODEL_DIR: options.modelDir ?? join(tmp, 'tiny-hf'),
    EMBEDDER_TOKEN,
    EMBEDDER_BATCH_WAIT_MS: '1',
    EMBEDDER_THREADS: '1',
    ...options.embedderEnv,
  };
  const indexEnv = { INDEX_DATA_DIR: join(tmp, 'index') };
  const [embedderStart, indexStart, bundle] = await Promise.allSettled([
    startService('embedder/main.ts', { ...embedderEnv, EMBEDDER_PORT: '0' }, 'embedder ready'),
    spawnIndexServer(indexEnv),
    bundleWorker(undefined, tmp),
  ]);
  if (embedderStart.status === 'rejected' || indexStart.status === 'rejected' || bundle.status === 'rejected') {
    // A failed start leaves no process or directory behind.
    await Promise.allSettled([embedderStart, indexStart].flatMap((s) => (s.status === 'fulfilled' ? [s.value.stop()] : [])));
    rmSync(tmp, { recursive: true, force: true });
    throw [embedderStart, indexStart, bundle].flatMap((s) => (s.status === 'rejected' ? [s.reason] : []))[0];
  }
  let embedder = embedderStart.value;
  let index = indexStart.value;
  const scriptPath = bundle.value;
  const embedderPort = new URL(embedder.url).port;
  const indexPort = new URL(index.url).port;
  const indexUrl = `${index.url}/accounts/local/vectorize/v2/indexes/${options.indexName ?? 'search'}`;
  const dim = await embedderDimensions(embedder.url, EMBEDDER_TOKEN);
  await ensureIndex({ indexUrl, dimensions: dim, ...(options.metadataIndexes ? { metadataIndexes: options.metadataIndexes } : {}) });

  const workers: LocalWorker[] = [];
  const addWorker = async (extra: Partial<LocalWorkerOptions> = {}) => {
    const worker = await startLocalWorker({
      port: 0,
      scriptPath,
      embedderUrls: [embedder.url],
      embedderToken: EMBEDDER_TOKEN,
      vectorizeUrl: indexUrl,
      adminToken: ADMIN_TOKEN,
      ...(options.rateLimit !== undefined ? { rateLimit: options.rateLimit } : {}),
      ...extra,
      // Request log lines only for 5xx answers, unless a test asks for them.
      vars: { LOG_LEVEL: 'warn', ...options.vars, ...extra.vars },
    });
    workers.push(worker);
    return worker;
  };
  const worker = await addWorker();

  return {
    get embedder() {
      return embedder;
    },
    get index() {
      return index;
    },
    indexUrl,
    worker,
    scriptPath,
    dim,
    addWorker,
    async killEmbedder() {
      await embedder.stop('SIGKILL');
    },
    async restartEmbedder() {
      embedder = await onSamePort(() => startService('embedder/main.ts', { ...embedderEnv, EMBEDDER_PORT: embedderPort }, 'embedder ready'));
    },
    async killIndex() {
      await index.stop('SIGKILL');
    },
    async restartIndex() {
      index = await onSamePort(() => spawnIndexServer({ ...indexEnv, INDEX_PORT: indexPort }));
    },
    async embedderEmbedRequests() {
      const metrics = await (await fetch(`${embedder.url}/metrics`)).text();
      let total = 0;
      for (const match of metrics.matchAll(/^embedder_requests_total\{route="\/v1\/embed\/[a-z]+",status="\d+"\} (\d+)$/gm)) total += Number(match[1]);
      return total;
    },
    embedTexts: (texts) => referenceEmbedder(embedder.url).embedTexts(texts),
    embedImage: (bytes) => referenceEmbedder(embedder.url).embedImage(bytes),
    async close() {
      await Promise.allSettled(workers.map((w) => w.close()));
      await Promise.allSettled([embedder.stop(), index.stop()]);
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Reference embeddings straight from the embedder at `url` (with EMBEDDER_TOKEN). */
export function referenceEmbedder(url: string): Pick<Stack, 'embedTexts' | 'embedImage'> {
  const headers = { authorization: `Bearer ${EMBEDDER_TOKEN}`, accept: 'application/octet-stream' };
  const rows = async (response: Response) => {
    if (!response.ok) throw new Error(`embedder: HTTP ${response.status} ${await response.text()}`);
    const dimension = Number(response.headers.get('x-embedding-dim'));
    const buffer = await response.arrayBuffer();
    return Array.from({ length: buffer.byteLength / 4 / dimension }, (_, i) => new Float32Array(buffer, i * dimension * 4, dimension));
  };
  return {
    async embedTexts(texts) {
      return rows(
        await fetch(`${url}/v1/embed/text`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ texts }) }),
      );
    },
    async embedImage(bytes) {
      const [row] = await rows(await fetch(`${url}/v1/embed/image`, { method: 'POST', headers: { ...headers, 'content-type': 'image/png' }, body: bytes }));
      return row!;
    },
  };
}

/** A small PNG: a coloured background with a circle, distinct per seed. */
export async function testImage(seed: number, width = 96, height = 72): Promise<Uint8Array> {
  const hue = (n: number) => (seed * n * 47) % 256;
  const svg = `<svg width="${width}" height="${height}"><circle cx="${(seed * 13) % width}" cy="${(seed * 7) % height}" r="${12 + (seed % 5) * 6}" fill="rgb(${hue(3)},${hue(5)},${hue(11)})"/></svg>`;
  const png = await sharp({ create: { width, height, channels: 3, background: { r: hue(1), g: hue(2), b: hue(7) } } })
    .composite([{ input: Buffer.from(svg) }])
    .png()
    .toBuffer();
  return new Uint8Array(png);
}

/** Items ranked by exact cosine similarity to `query`, best first. */
export function exactRanking(query: ArrayLike<number>, items: { id: string; vector: ArrayLike<number> }[]): { id: string; score: number }[] {
  const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
  const nq = norm(query);
  return items
    .map(({ id, vector }) => {
      let dot = 0;
      for (let i = 0; i < query.length; i++) dot += query[i]! * vector[i]!;
      return { id, score: dot / (nq * norm(vector) || 1) };
    })
    .sort((a, b) => b.score - a.score);
}
