// The chaos suite's stack: the embedder and the local index as child
// processes kept up by the supervisor `npm start` uses (so a killed one comes
// back on the same port and data directory by itself), the embedder with its
// test-only fault route, and the worker in workerd (Miniflare) with the
// production settings except a 1 s embedder timeout, a short result TTL (so
// outages meet stale entries) and no rate limit (the load comes from one
// address).
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { generate } from '../../embedder/model-gen/generate.ts';
import { Supervisor, type SupervisorEvent } from '../../scripts/supervisor.ts';
import { bundleWorker } from '../../scripts/worker/bundle.ts';
import { embedderDimensions, ensureIndex, startLocalWorker, type LocalWorker } from '../../scripts/worker/local.ts';
import { temporaryDirectory } from '../support/files.ts';
import { freePort } from '../support/ports.ts';
import { childrenNamed } from './rss.ts';

export const ADMIN_TOKEN = 'chaos-admin-token';
const EMBEDDER_TOKEN = 'chaos-embedder-token';
const root = new URL('../../', import.meta.url).pathname;

export const WORKER_VARS = {
  EMBEDDER_TIMEOUT_MS: '1000',
  CACHE_TTL_SECONDS: '5',
  CACHE_SWR_SECONDS: '5',
  LOG_LEVEL: 'warn',
};

export interface ChaosStack {
  worker: LocalWorker;
  embedderUrl: string;
  /** The index's REST URL (VECTORIZE_URL). */
  indexUrl: string;
  supervisor: Supervisor;
  /** Supervisor events with their performance.now() time. */
  events: (SupervisorEvent & { at: number })[];
  /** The embedder's and the index's warnings and errors (pino level ≥ 40): level, service and line. */
  serviceProblems: { level: number; line: string }[];
  /** The worker's JSON log lines, counted, the first few without a request id kept; and workerd's own lines. */
  workerLog: { lines: number; withoutRequestId: number; runtimeLines: number; samples: string[] };
  /** Current pids: embedder, index, workerd, and this process (the load generator). */
  pids(): Record<string, number | undefined>;
  /** Sets the embedder's test-only delay (PUT /v1/test/faults). */
  setEmbedderDelay(delayMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Resolves with the first event matching `predicate` that happens from now on. */
export function nextEvent(stack: ChaosStack, predicate: (event: SupervisorEvent) => boolean, timeoutMs = 60_000): Promise<number> {
  const seen = stack.events.length;
  return new Promise((resolve, reject) => {
    const deadline = performance.now() + timeoutMs;
    const poll = () => {
      const event = stack.events.slice(seen).find(predicate);
      if (event) return resolve(event.at);
      if (performance.now() > deadline) return reject(new Error('timed out waiting for a supervisor event'));
      setTimeout(poll, 10);
    };
    poll();
  });
}

const loggedReady = (message: string) => (line: string) => {
  try {
    return (JSON.parse(line) as { msg?: unknown }).msg === message;
  } catch {
    return false;
  }
};

export async function startChaosStack(): Promise<ChaosStack> {
  const dir = temporaryDirectory('chaos-', 'test');
  generate({ arch: 'tiny', outDir: dir, seed: 21, layouts: ['hf'] });
  const ports = { embedder: await freePort(), index: await freePort() };
  const embedderUrl = `http://127.0.0.1:${ports.embedder}`;
  const events: ChaosStack['events'] = [];
  const recent: string[] = [];
  const serviceProblems: ChaosStack['serviceProblems'] = [];
  const supervisor = new Supervisor({
    cwd: root,
    onEvent: (event) => events.push({ ...event, at: performance.now() }),
    onLine: (service, line) => {
      // Kept short: printed only if the stack fails to start.
      recent.push(`[${service}] ${line}`);
      if (recent.length > 200) recent.shift();
      let level = 0;
      try {
        level = (JSON.parse(line) as { level?: number }).level ?? 0;
      } catch {
        // not a log line
      }
      if (level >= 40 && serviceProblems.length < 200) serviceProblems.push({ level, line: `[${service}] ${line}` });
    },
  });
  try {
    await Promise.all([
      supervisor.start({
        name: 'embedder',
        entry: 'embedder/main.ts',
        env: {
          MODEL_DIR: join(dir, 'tiny-hf'),
          EMBEDDER_PORT: String(ports.embedder),
          EMBEDDER_TOKEN,
          EMBEDDER_THREADS: '1',
          EMBEDDER_BATCH_WAIT_MS: '1',
          // The test-only fault route (embedder/http/test-faults.ts): both are required.
          NODE_ENV: 'test',
          EMBEDDER_TEST_FAULTS: '1',
        },
        isReady: loggedReady('embedder ready'),
      }),
      supervisor.start({
        name: 'index',
        entry: 'index/main.ts',
        // A small snapshot threshold: snapshots happen during the run, and a kill can meet one.
        env: { INDEX_PORT: String(ports.index), INDEX_DATA_DIR: join(dir, 'index'), INDEX_SNAPSHOT_WAL_BYTES: String(256 * 1024) },
        isReady: loggedReady('vectorize-compatible index service listening'),
      }),
    ]);
  } catch (error) {
    await supervisor.stop();
    throw new Error(`the chaos stack did not start: ${(error as Error).message}\n${recent.join('\n')}`);
  }
  const indexUrl = `http://127.0.0.1:${ports.index}/client/v4/accounts/local/vectorize/v2/indexes/chaos`;
  await ensureIndex({ indexUrl, dimensions: await embedderDimensions(embedderUrl, EMBEDDER_TOKEN) });

  const workerLog = { lines: 0, withoutRequestId: 0, runtimeLines: 0, samples: [] as string[] };
  const readLog = (stream: Readable) =>
    createInterface({ input: stream }).on('line', (line) => {
      let entry: { msg?: unknown; requestId?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        workerLog.runtimeLines++; // workerd's own diagnostics (e.g. a write to an upstream that died)
        return;
      }
      workerLog.lines++;
      if (typeof entry.requestId === 'string') return;
      workerLog.withoutRequestId++;
      if (workerLog.samples.length < 5) workerLog.samples.push(line);
    });
  const worker = await startLocalWorker({
    port: 0,
    scriptPath: await bundleWorker(undefined, dir),
    embedderUrls: [embedderUrl],
    embedderToken: EMBEDDER_TOKEN,
    vectorizeUrl: indexUrl,
    adminToken: ADMIN_TOKEN,
    rateLimit: false,
    vars: WORKER_VARS,
    miniflare: {
      handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
        readLog(stdout);
        readLog(stderr);
      },
    },
  });
  const workerd = childrenNamed(process.pid, 'workerd').at(-1);

  return {
    worker,
    embedderUrl,
    indexUrl,
    supervisor,
    events,
    serviceProblems,
    workerLog,
    pids: () => ({ embedder: supervisor.pid('embedder'), index: supervisor.pid('index'), workerd, 'load generator': process.pid }),
    async setEmbedderDelay(delayMs) {
      const response = await fetch(`${embedderUrl}/v1/test/faults`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${EMBEDDER_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ delayMs }),
      });
      if (response.status !== 200) throw new Error(`PUT /v1/test/faults: HTTP ${response.status} ${await response.text()}`);
    },
    async close() {
      await worker.close();
      await supervisor.stop();
    },
  };
}
