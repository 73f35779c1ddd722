// npm start: the whole stack on one machine, wired together — the embedder
// (8790), the local Vectorize-compatible index (8791) and the search worker
// in workerd (8787). Logs are prefixed per process. A service that dies is
// restarted on the same port and data directory (scripts/supervisor.ts:
// backoff from 250 ms, given up after 5 failures within 60 s, which stops the
// stack with exit code 1); Ctrl-C stops everything.
import { randomBytes } from 'node:crypto';
import { DEMO_FILTERABLE_FIELDS, DEMO_MODEL_BANNER, DEMO_MODEL_SETTING } from '../demo/model-banner.ts';
import { loadStartSettings, type StartSettings } from './start-settings.ts';
import { DEFAULT_POLICY, Supervisor, type SupervisorEvent } from './supervisor.ts';

let settings: StartSettings;
try {
  settings = loadStartSettings(process.env);
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
const ports = { embedder: String(settings.EMBEDDER_PORT), index: String(settings.INDEX_PORT), worker: String(settings.WORKER_PORT) };
const colours = { embedder: 36, index: 35, worker: 33 } as const;
type Service = keyof typeof colours;

function secret(name: string): string {
  const given = process.env[name];
  if (given) return given;
  const made = randomBytes(24).toString('base64url');
  console.log(`${name} was not set; generated for this run: ${made}`);
  return made;
}

const servesDemoModel = !process.env.MODEL_DIR && !process.env.MODEL && !process.env.EMBEDDER_MODELS;

/** The embedder's model: MODEL_DIR, or MODEL (a hub id the embedder downloads) or EMBEDDER_MODELS (several), else the demo model. */
function modelEnv(): Record<string, string> {
  if (process.env.MODEL_DIR) return { MODEL_DIR: process.env.MODEL_DIR };
  if (!servesDemoModel) return {};
  console.warn(DEMO_MODEL_BANNER);
  return { EMBEDDER_MODELS: DEMO_MODEL_SETTING };
}

/** With the demo model, the page offers the demo collection's metadata fields as filters (unless FILTERABLE_FIELDS says otherwise). */
function modelWorkerEnv(): Record<string, string> {
  return servesDemoModel && !process.env.FILTERABLE_FIELDS ? { FILTERABLE_FIELDS: DEMO_FILTERABLE_FIELDS } : {};
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

const prefix = (service: string) => `\x1b[${colours[service as Service]}m[${service}]\x1b[0m`;

const { maxFailures, windowMs } = DEFAULT_POLICY;
const windowS = windowMs / 1000;

function describeEvent(event: SupervisorEvent): string | undefined {
  const how = (code: number | null, signal: NodeJS.Signals | null) => (signal ? `signal ${signal}` : `exit code ${code}`);
  switch (event.type) {
    case 'started':
      return event.restarts === 0 ? `started (pid ${event.pid})` : `restarted (pid ${event.pid}, restart ${event.restarts})`;
    case 'ready':
      return event.restarts === 0 ? undefined : 'ready again';
    case 'exited':
      return `exited (${how(event.code, event.signal)}); restarting in ${event.restartInMs} ms (failure ${event.failures} of ${maxFailures} allowed within ${windowS} s)`;
    case 'gave-up':
      return `exited (${how(event.code, event.signal)}): failure ${event.failures} within ${windowS} s`;
  }
}

const supervisor = new Supervisor({
  onLine: (service, line) => console.log(`${prefix(service)} ${readable(line)}`),
  onEvent: (event) => {
    const text = describeEvent(event);
    if (text) (event.type === 'started' || event.type === 'ready' ? console.log : console.error)(`${prefix(event.service)} ${text}`);
  },
});
let stopping = false;

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await supervisor.stop();
  }
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
/** A service is ready once it logs this message (a JSON log line). */
const loggedReady = (message: string) => (line: string) => {
  try {
    return (JSON.parse(line) as { msg?: unknown }).msg === message;
  } catch {
    return false;
  }
};

const embedderToken = secret('EMBEDDER_TOKEN');
const adminToken = secret('ADMIN_TOKEN');
const embedderUrl = `http://127.0.0.1:${ports.embedder}`;
const indexUrl = `http://127.0.0.1:${ports.index}`;

async function startStack(): Promise<void> {
  await Promise.all([
    supervisor.start({
      name: 'embedder',
      entry: 'embedder/main.ts',
      env: { ...modelEnv(), EMBEDDER_PORT: ports.embedder, EMBEDDER_TOKEN: embedderToken },
      isReady: loggedReady('embedder ready'),
    }),
    supervisor.start({ name: 'index', entry: 'index/main.ts', env: { INDEX_PORT: ports.index }, isReady: loggedReady('vectorize-compatible index service listening') }),
  ]);
  await supervisor.start({
    name: 'worker',
    entry: 'scripts/worker/local.ts',
    env: {
      WORKER_PORT: ports.worker,
      EMBEDDER_URLS: embedderUrl,
      EMBEDDER_TOKEN: embedderToken,
      VECTORIZE_URL: `${indexUrl}/client/v4/accounts/local/vectorize/v2/indexes/crossmodal`,
      ADMIN_TOKEN: adminToken,
      WORKER_PERSIST_DIR: settings.WORKER_PERSIST_DIR,
      ...modelWorkerEnv(),
    },
    isReady: loggedReady('worker ready'),
  });
  console.log(`\nsearch API:  http://127.0.0.1:${ports.worker}/v1/search?q=sunset  (OpenAPI at /openapi.json)`);
  console.log(`admin API:   POST http://127.0.0.1:${ports.worker}/v1/items with Authorization: Bearer $ADMIN_TOKEN`);
  console.log(`embedder:    ${embedderUrl}    index: ${indexUrl}/client/v4`);
  console.log(`metrics:     embedder ${embedderUrl}/metrics (Prometheus)    index ${indexUrl}/metrics (Prometheus)`);
  console.log('             worker: one JSON line per request above ([worker] request ...), with its x-request-id;');
  console.log('             on Cloudflare also an Analytics Engine data point per request (ANALYTICS in wrangler.toml)\n');
}

try {
  await Promise.race([startStack(), supervisor.gaveUp]);
  await supervisor.gaveUp;
} catch (error) {
  if (!stopping) {
    console.error(`\x1b[1;31m${(error as Error).message}; stopping the stack\x1b[0m`);
    await stop(1);
  }
}
