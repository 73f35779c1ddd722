// npm start: the whole stack on one machine, wired together — the embedder
// (8790), the local Vectorize-compatible index (8791) and the search worker
// in workerd (8787). Logs are prefixed per process; Ctrl-C stops everything.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { generate, HF_TEXT_MODEL, layoutDirName } from '../embedder/model-gen/generate.ts';

const MODELS_DIR = 'models';
const TINY_MODEL = `${MODELS_DIR}/${layoutDirName('tiny', 'hf')}`;
const ports = {
  embedder: process.env.EMBEDDER_PORT ?? '8790',
  index: process.env.INDEX_PORT ?? '8791',
  worker: process.env.WORKER_PORT ?? '8787',
};
const colours = { embedder: 36, index: 35, worker: 33 } as const;
type Service = keyof typeof colours;

function secret(name: string): string {
  const given = process.env[name];
  if (given) return given;
  const made = randomBytes(24).toString('base64url');
  console.log(`${name} was not set; generated for this run: ${made}`);
  return made;
}

function modelDir(): string {
  if (process.env.MODEL_DIR) return process.env.MODEL_DIR;
  if (!existsSync(`${TINY_MODEL}/${HF_TEXT_MODEL}`)) generate({ arch: 'tiny', outDir: MODELS_DIR, layouts: ['hf'] });
  console.warn(
    '\x1b[1;31mWARNING: no MODEL_DIR given, so the stack runs the generated tiny random-weight CLIP.\n' +
      'Search results are meaningless with it. Fetch a real model, e.g.\n' +
      '  npm run model:fetch -- Xenova/clip-vit-base-patch32 && MODEL_DIR=models/Xenova__clip-vit-base-patch32 npm start\x1b[0m',
  );
  return TINY_MODEL;
}

/** One log line for people: the message of a JSON log line plus its other fields. */
function readable(line: string): string {
  try {
    const { msg, level, time, pid, hostname, name, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return `${String(msg ?? '')}${extra}`;
  } catch {
    return line;
  }
}

const children: ChildProcess[] = [];
let stopping = false;

function run(service: Service, entry: string, env: Record<string, string>): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const prefix = `\x1b[${colours[service]}m[${service}]\x1b[0m`;
  return new Promise((resolve, reject) => {
    for (const stream of [child.stdout!, child.stderr!])
      createInterface({ input: stream }).on('line', (line) => {
        console.log(`${prefix} ${readable(line)}`);
        if (/"msg":"(embedder|index|worker) ready"|listening/.test(line)) resolve();
      });
    child.on('exit', (code, signal) => {
      if (!stopping) {
        console.error(`${prefix} exited (${signal ?? code}); stopping the stack`);
        void stop(1);
      }
      reject(new Error(`${service} exited`));
    });
  });
}

async function stop(code: number): Promise<never> {
  stopping = true;
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

const embedderToken = secret('EMBEDDER_TOKEN');
const adminToken = secret('ADMIN_TOKEN');
const embedderUrl = `http://127.0.0.1:${ports.embedder}`;
const indexUrl = `http://127.0.0.1:${ports.index}`;

try {
  await Promise.all([
    run('embedder', 'embedder/main.ts', { MODEL_DIR: modelDir(), EMBEDDER_PORT: ports.embedder, EMBEDDER_TOKEN: embedderToken }),
    run('index', 'index/main.ts', { INDEX_PORT: ports.index }),
  ]);
  await run('worker', 'scripts/worker/local.ts', {
    WORKER_PORT: ports.worker,
    EMBEDDER_URLS: embedderUrl,
    EMBEDDER_TOKEN: embedderToken,
    VECTORIZE_URL: `${indexUrl}/client/v4/accounts/local/vectorize/v2/indexes/crossmodal`,
    ADMIN_TOKEN: adminToken,
  });
  console.log(`\nsearch API:  http://127.0.0.1:${ports.worker}/v1/search?q=sunset  (OpenAPI at /openapi.json)`);
  console.log(`admin API:   POST http://127.0.0.1:${ports.worker}/v1/items with Authorization: Bearer $ADMIN_TOKEN`);
  console.log(`embedder:    ${embedderUrl}    index: ${indexUrl}/client/v4\n`);
} catch (error) {
  if (!stopping) {
    console.error((error as Error).message);
    await stop(1);
  }
}
