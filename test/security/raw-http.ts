// HTTP/1.1 written by hand on a TCP socket, for what fetch will not send: a
// Content-Length that promises more than follows, headers that never end,
// malformed request lines.
import { connect } from 'node:net';

export interface RawAnswer {
  /** 0 when the server closed the connection without answering. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** From the first byte sent to the connection's end. */
  elapsedMs: number;
}

/**
 * Sends `request` to the host and port of `url` and reads until the server
 * closes the connection (or `timeoutMs` passes, which rejects). The client
 * never closes its side: a request that promised more body than it sent
 * leaves the server waiting, as a slow or hostile client would.
 */
export function rawExchange(url: string, request: string | Uint8Array, timeoutMs = 15_000): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
    const chunks: Buffer[] = [];
    const started = performance.now();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {}); // a reset after the answer is the end of it
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...headerLines] = (split < 0 ? text : text.slice(0, split)).split('\r\n');
      const headers = Object.fromEntries(
        headerLines.map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      resolve({
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0),
        headers,
        body: split < 0 ? '' : text.slice(split + 4),
        elapsedMs: performance.now() - started,
      });
    });
  });
}

/** A request line and headers, CRLF-terminated, for rawExchange. */
export const rawRequest = (method: string, path: string, headers: Record<string, string | number>, body = ''): string =>
  `${method} ${path} HTTP/1.1\r\n${Object.entries({ host: 'localhost', ...headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n${body}`;
