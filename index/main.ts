// npm run index:serve — the local Vectorize-compatible index service.
// Unset variables take startIndexServer's defaults (shown in parentheses).
//   INDEX_PORT (8791)  INDEX_HOST (127.0.0.1)  INDEX_DATA_DIR (.data/index)
//   INDEX_TOKEN (optional bearer token)  INDEX_LOG_LEVEL (info)
//   INDEX_SNAPSHOT_WAL_BYTES (67108864)  INDEX_SNAPSHOT_INTERVAL_MS (300000)
//   INDEX_HEADERS_TIMEOUT_MS (10000)  INDEX_REQUEST_TIMEOUT_MS (60000): time a
//   client has to send a request's headers, and the whole request
import { DEFAULT_REQUEST_TIMEOUTS } from '../common/http/node-server.ts';
import { startIndexServer } from './server.ts';

/** An integer setting, or undefined when unset so startIndexServer applies its default. */
function integerEnv(name: string, min: number, max: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`${name} must be an integer from ${min} to ${max} (got ${raw})`);
    process.exit(2);
  }
  return value;
}

const requestMs = integerEnv('INDEX_REQUEST_TIMEOUT_MS', 100, 3_600_000) ?? DEFAULT_REQUEST_TIMEOUTS.requestMs;
const headersMs = integerEnv('INDEX_HEADERS_TIMEOUT_MS', 100, requestMs) ?? Math.min(DEFAULT_REQUEST_TIMEOUTS.headersMs, requestMs);

const server = await startIndexServer({
  port: integerEnv('INDEX_PORT', 0, 65535),
  host: process.env.INDEX_HOST,
  dataDir: process.env.INDEX_DATA_DIR,
  token: process.env.INDEX_TOKEN || undefined,
  snapshotWalBytes: integerEnv('INDEX_SNAPSHOT_WAL_BYTES', 1, Number.MAX_SAFE_INTEGER),
  snapshotIntervalMs: integerEnv('INDEX_SNAPSHOT_INTERVAL_MS', 1000, 2 ** 31 - 1),
  timeouts: { headersMs, requestMs },
});

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1); // a second signal: stop waiting
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
