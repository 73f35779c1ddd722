// The index service's settings from the environment (npm run index:serve), each with a bound.
// Descriptions are the comments above each (docs/configuration.md is generated from them).
import { z } from 'zod';
import { DEFAULT_REQUEST_TIMEOUTS, type RequestTimeouts } from '../common/http/node-server.ts';
import { readSettings } from '../common/settings.ts';
import type { IndexServerOptions } from './server.ts';

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

export const schema = z
  .object({
    /** The port to listen on (0: a free one). */
    INDEX_PORT: int(8791, 0, 65535),
    /** The address to listen on; keep it on loopback unless INDEX_TOKEN is set and a firewall stands in front. */
    INDEX_HOST: z.string().min(1).default('127.0.0.1'),
    /** Where the indexes keep their logs, snapshots and graphs. */
    INDEX_DATA_DIR: z.string().min(1).default('.data/index'),
    /** When set, every route (/metrics included) needs `Authorization: Bearer <it>`. @secret */
    INDEX_TOKEN: z.string().optional(),
    /** The log level (pino: trace, debug, info, warn, error, fatal, silent). */
    INDEX_LOG_LEVEL: z.string().min(1).default('info'),
    /** Snapshot an index once its write-ahead log reaches this many bytes… */
    INDEX_SNAPSHOT_WAL_BYTES: int(64 * 1024 * 1024, 1, Number.MAX_SAFE_INTEGER),
    /** …and at least this often while its log is not empty. */
    INDEX_SNAPSHOT_INTERVAL_MS: int(5 * 60_000, 1000, 2 ** 31 - 1),
    /** Time a client has to send a request's headers (at most INDEX_REQUEST_TIMEOUT_MS)… */
    INDEX_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).optional(),
    /** …and the whole request. */
    INDEX_REQUEST_TIMEOUT_MS: int(DEFAULT_REQUEST_TIMEOUTS.requestMs, 100, 3_600_000),
  })
  .refine((e) => e.INDEX_HEADERS_TIMEOUT_MS === undefined || e.INDEX_HEADERS_TIMEOUT_MS <= e.INDEX_REQUEST_TIMEOUT_MS, {
    path: ['INDEX_HEADERS_TIMEOUT_MS'],
    message: 'must not exceed INDEX_REQUEST_TIMEOUT_MS',
  });

export type IndexSettings = Required<Pick<IndexServerOptions, 'port' | 'host' | 'dataDir' | 'snapshotWalBytes' | 'snapshotIntervalMs'>> & {
  token: string | undefined;
  logLevel: string;
  timeouts: RequestTimeouts;
};

/** The settings (empty variables count as unset), or an Error naming every bad variable. */
export function loadIndexSettings(env: NodeJS.ProcessEnv): IndexSettings {
  const e = readSettings(schema, env, { service: 'index' });
  return {
    port: e.INDEX_PORT,
    host: e.INDEX_HOST,
    dataDir: e.INDEX_DATA_DIR,
    token: e.INDEX_TOKEN,
    logLevel: e.INDEX_LOG_LEVEL,
    snapshotWalBytes: e.INDEX_SNAPSHOT_WAL_BYTES,
    snapshotIntervalMs: e.INDEX_SNAPSHOT_INTERVAL_MS,
    timeouts: {
      headersMs: e.INDEX_HEADERS_TIMEOUT_MS ?? Math.min(DEFAULT_REQUEST_TIMEOUTS.headersMs, e.INDEX_REQUEST_TIMEOUT_MS),
      requestMs: e.INDEX_REQUEST_TIMEOUT_MS,
    },
  };
}
