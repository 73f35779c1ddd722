// Targets for the Vectorize conformance suite: the local index service, or
// real Cloudflare Vectorize when CLOUDFLARE_ACCOUNT_ID and
// CLOUDFLARE_API_TOKEN are set. Tests talk to either through the official
// SDK and must not assume anything the real service would not do, except
// under `target.local`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Cloudflare, { toFile } from 'cloudflare';
import pino from 'pino';
import { startIndexServer, type IndexServerOptions } from '../../index/server.ts';
import { eventually } from './timing.ts';

export interface VectorizeTarget {
  name: 'local' | 'cloudflare';
  /** True for the local service: assertions on its own choices are allowed. */
  local: boolean;
  client: Cloudflare;
  accountId: string;
  /** Base URL including /client/v4. */
  baseURL: string;
  token: string;
  /** Raw request to `<baseURL>/accounts/<account>/vectorize/v2/indexes<path>`, for what the SDK cannot send. */
  raw(path: string, init?: RequestInit): Promise<Response>;
  /** Resolves once `mutationId` is processed (immediately for the local service). */
  settle(index: string, mutationId: string | undefined): Promise<void>;
  close(): Promise<void>;
}

function makeTarget(
  name: VectorizeTarget['name'],
  baseURL: string,
  token: string,
  accountId: string,
  close: () => Promise<void>,
): VectorizeTarget {
  const client = new Cloudflare({ apiToken: token, baseURL, maxRetries: name === 'local' ? 0 : 2 });
  const local = name === 'local';
  return {
    name,
    local,
    client,
    accountId,
    baseURL,
    token,
    raw: (path, init = {}) =>
      fetch(`${baseURL}/accounts/${accountId}/vectorize/v2/indexes${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) },
      }),
    async settle(index, mutationId) {
      if (local || mutationId === undefined) return;
      await eventually(
        async () => ((await client.vectorize.indexes.info(index, { account_id: accountId }))?.processedUpToMutation === mutationId ? true : undefined),
        `mutation ${mutationId} on ${index} to be processed`,
        { timeoutMs: 120_000, intervalMs: 2000 },
      );
    },
    close,
  };
}

/** Starts the local service on a free port with a fresh data directory. */
export async function startLocalTarget(options: IndexServerOptions = {}): Promise<VectorizeTarget & { dataDir: string }> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'vectorize-local-')));
  const token = options.token ?? 'test-token';
  const server = await startIndexServer({ port: 0, logger: pino({ level: 'silent' }), ...options, dataDir, token });
  const target = makeTarget('local', server.url, token, 'local-account', async () => {
    await server.close();
    if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
  });
  return { ...target, dataDir };
}

export function cloudflareConfigured(): boolean {
  return Boolean(process.env.CLOUDFLARE_ACCOUNT_ID && process.env.CLOUDFLARE_API_TOKEN);
}

export function cloudflareTarget(): VectorizeTarget {
  return makeTarget(
    'cloudflare',
    process.env.CLOUDFLARE_BASE_URL ?? 'https://api.cloudflare.com/client/v4',
    process.env.CLOUDFLARE_API_TOKEN!,
    process.env.CLOUDFLARE_ACCOUNT_ID!,
    async () => {},
  );
}

/** Every target this run can reach: always local, Cloudflare when configured. */
export const TARGETS: { name: VectorizeTarget['name']; enabled: boolean; open: () => Promise<VectorizeTarget> }[] = [
  { name: 'local', enabled: true, open: () => startLocalTarget() },
  { name: 'cloudflare', enabled: cloudflareConfigured(), open: async () => cloudflareTarget() },
];

export interface TestVector {
  id: string;
  values: number[];
  metadata?: Record<string, unknown>;
  namespace?: string;
}

export const ndjson = (vectors: readonly TestVector[]) => vectors.map((v) => JSON.stringify(v)).join('\n');

export const ndjsonFile = (vectors: readonly TestVector[]) => toFile(Buffer.from(ndjson(vectors)), 'vectors.ndjson');

/** A fresh index name, unique per run (real accounts are shared). */
export function uniqueIndexName(label: string): string {
  return `cm-test-${label}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.slice(0, 60);
}

export interface SpawnedServer {
  /** Base URL including /client/v4. */
  url: string;
  child: ChildProcess;
  /** Log messages (pino `msg`) seen so far. */
  messages: string[];
  /** Sends `signal` and resolves when the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs index/main.ts (what `npm run index:serve` runs) on a free port. */
export async function spawnIndexServer(env: Record<string, string>): Promise<SpawnedServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'index/main.ts'], {
    cwd: new URL('../../', import.meta.url).pathname,
    env: { ...process.env, INDEX_PORT: '0', INDEX_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const messages: string[] = [];
  // If the test process ends without stopping it, take the server along.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  // 'close', not 'exit': only then has everything the process wrote been read.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`index server did not start:\n${stderr}`));
    }, 120_000);
    child.once('close', (code) => reject(new Error(`index server exited with ${code}:\n${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { url?: string; level?: number; msg?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return; // not a log line
      }
      messages.push(entry.msg ?? '');
      if ((entry.level ?? 0) >= 40) console.warn(line);
      if (entry.url) {
        clearTimeout(timer);
        resolve(entry.url);
      }
    });
  });
  return {
    url,
    child,
    messages,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
