// Starts the service programmatically: tests, `npm start`, index/main.ts.
import pino, { type Logger } from 'pino';
import { DEFAULT_REQUEST_TIMEOUTS, portOf, serveNode, type RefusalStatus, type RequestTimeouts } from '../common/http/node-server.ts';
import { API_PREFIX, createApp } from './app.ts';
import { CODES, type ErrorCode } from './errors.ts';
import { failureBody } from './http/envelope.ts';
import { DEFAULT_TUNING, type SearchTuning } from './engine/vector-index.ts';
import { Catalog } from './storage/catalog.ts';

export interface IndexServerOptions {
  /** 0 picks a free port. Default 8791. */
  port?: number | undefined;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** Default .data/index. */
  dataDir?: string | undefined;
  token?: string | undefined;
  logger?: Logger;
  /** Snapshot an index once its log reaches this many bytes (default 64 MiB). */
  snapshotWalBytes?: number | undefined;
  /** …and at least this often while its log is non-empty (default 5 minutes). */
  snapshotIntervalMs?: number | undefined;
  tuning?: Partial<SearchTuning>;
  /** Time a client has to send a request's headers, and the whole request (default 10 s and 60 s). */
  timeouts?: RequestTimeouts | undefined;
}

/** The codes of what Node's HTTP layer refuses (common/http/node-server.ts). */
const REFUSAL_CODES: Record<RefusalStatus, ErrorCode> = {
  400: CODES.badRequestBody,
  408: CODES.requestTimeout,
  413: CODES.bodyTooLarge,
  431: CODES.headersTooLarge,
  500: CODES.internal,
};

export interface IndexServer {
  /** Base URL for clients, e.g. http://127.0.0.1:8791/client/v4 (the SDK's baseURL). */
  url: string;
  port: number;
  /** Stops accepting requests, finishes writes, snapshots, closes. */
  close(): Promise<void>;
}

export async function startIndexServer(options: IndexServerOptions = {}): Promise<IndexServer> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? pino({ level: process.env.INDEX_LOG_LEVEL ?? 'info' });
  const catalog = await Catalog.open(
    options.dataDir ?? '.data/index',
    {
      snapshotWalBytes: options.snapshotWalBytes ?? 64 * 1024 * 1024,
      snapshotIntervalMs: options.snapshotIntervalMs ?? 5 * 60_000,
      tuning: { ...DEFAULT_TUNING, ...options.tuning },
    },
    logger,
  );
  const app = createApp({ catalog, logger, token: options.token });

  const server = await serveNode({
    fetch: app.fetch,
    port: options.port ?? 8791,
    hostname: host,
    timeouts: options.timeouts ?? DEFAULT_REQUEST_TIMEOUTS,
    errorBody: (status, message) => failureBody({ code: REFUSAL_CODES[status], message }),
    onRefusal: (status, reason) => logger.info({ status, reason }, 'request refused by the HTTP layer'),
  });
  const port = portOf(server);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${API_PREFIX}`;
  logger.info({ url }, 'vectorize-compatible index service listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        if ('closeIdleConnections' in server) server.closeIdleConnections();
        await catalog.close();
        if ('closeAllConnections' in server) server.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
}
