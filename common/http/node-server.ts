// Serving a Hono app from Node (the embedder, the index): the time a client
// may take to send a request is bounded, and what Node's HTTP layer refuses
// by itself (a malformed request, oversized headers, a request not received
// in time) is answered in the service's JSON error body instead of Node's
// plain-text one. The kit's only Node module: the worker never imports it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { getRequestListener, RequestError } from '@hono/node-server';

export interface RequestTimeouts {
  /** Time to receive a request's headers. */
  headersMs: number;
  /** Time to receive a whole request, headers and body (not to answer it). At least `headersMs`. */
  requestMs: number;
}

/** What the embedder and the index allow unless configured otherwise. */
export const DEFAULT_REQUEST_TIMEOUTS: RequestTimeouts = { headersMs: 10_000, requestMs: 60_000 };

/** Node's limit on the request line and headers together (its default, stated so it can be documented and reported). */
export const MAX_HEADER_BYTES = 16 * 1024;

/** The statuses the HTTP layer refuses a request with before any route runs (500: the app itself threw, which it should not). */
export type RefusalStatus = 400 | 408 | 413 | 431 | 500;

export interface NodeServeOptions {
  fetch: (request: Request) => Response | Promise<Response>;
  port: number;
  hostname: string;
  timeouts: RequestTimeouts;
  /** The service's error body (serialised as JSON) for a refusal by the HTTP layer. */
  errorBody: (status: RefusalStatus, message: string) => unknown;
  /** Told of each refusal, for the service's log. */
  onRefusal?: (status: RefusalStatus, reason: string) => void;
}

const REASONS: Record<RefusalStatus, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
};

/** Node's error for a request it refuses: a llhttp parse error (HPE_*) or its request timeout. */
function refusalFor(code: string | undefined, timeouts: RequestTimeouts): { status: RefusalStatus; message: string } | undefined {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        message: `the request was not received in time (headers within ${timeouts.headersMs} ms, the whole request within ${timeouts.requestMs} ms)`,
      };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, message: `the request line and headers exceed ${MAX_HEADER_BYTES} bytes` };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, message: 'the chunk extensions of the body are too large' };
    case undefined:
      return undefined;
    default:
      return code.startsWith('HPE_') ? { status: 400, message: 'the request is not well-formed HTTP/1.1' } : undefined;
  }
}

/** A response written straight to the socket: 'clientError' comes before (or instead of) any request object. */
function rawResponse(status: RefusalStatus, body: string): string {
  return [
    `HTTP/1.1 ${status} ${REASONS[status]}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** Starts serving; resolves with the listening server. */
export async function serveNode(options: NodeServeOptions): Promise<Server> {
  const { headersMs, requestMs } = options.timeouts;
  if (headersMs > requestMs) throw new RangeError(`the headers timeout (${headersMs} ms) must not exceed the request timeout (${requestMs} ms)`);
  const json = (status: 400 | 500, message: string) =>
    new Response(JSON.stringify(options.errorBody(status, message)), {
      status,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    });
  const listener = getRequestListener(options.fetch, {
    hostname: options.hostname,
    // A request @hono/node-server cannot turn into a Request (a backslash in the path, a Host header that is
    // not a host) would get an empty 400; the app answers everything else itself.
    errorHandler: (error) =>
      error instanceof RequestError ? json(400, `the request cannot be served: ${error.message}`) : json(500, 'internal error'),
  });
  const server = createServer(
    {
      headersTimeout: headersMs,
      requestTimeout: requestMs,
      maxHeaderSize: MAX_HEADER_BYTES,
      // How often Node checks the two timeouts (its default, 30 s, would let a request overstay them by that much).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersMs / 4))),
    },
    listener,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const refusal = refusalFor(error.code, options.timeouts);
    // A response already under way (or a socket already gone) can only be closed.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (refusal && socket.writable && !inFlight) {
      options.onRefusal?.(refusal.status, refusal.message);
      socket.end(rawResponse(refusal.status, JSON.stringify(options.errorBody(refusal.status, refusal.message))));
      // A client that never reads must not keep the socket.
      setTimeout(() => socket.destroy(), 1000).unref();
    } else {
      socket.destroy();
    }
  });
  return server;
}

/** The port a server listens on. */
export const portOf = (server: Server): number => (server.address() as AddressInfo).port;
