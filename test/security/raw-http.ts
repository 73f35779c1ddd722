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

function parse(bytes: Buffer, elapsedMs: number): RawAnswer & { complete: boolean } {
  const split = bytes.indexOf('\r\n\r\n');
  const head = (split < 0 ? bytes : bytes.subarray(0, split)).toString('latin1');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  const body = split < 0 ? Buffer.alloc(0) : bytes.subarray(split + 4);
  const length = headers['content-length'] === undefined ? NaN : Number(headers['content-length']);
  return {
    status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0),
    headers,
    body: body.toString('utf8'),
    elapsedMs,
    complete: split >= 0 && body.length >= length,
  };
}

/**
 * Sends `request` to the host and port of `url` and reads the answer: until
 * its Content-Length is in, or the server closes the connection (or
 * `timeoutMs` passes, which rejects). The client never closes its side: a
 * request that promised more body than it sent leaves the server waiting,
 * as a slow or hostile client would.
 */
export function rawExchange(url: string, request: string | Uint8Array, timeoutMs = 15_000): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
    const chunks: Buffer[] = [];
    const started = performance.now();
    const finish = (answer: RawAnswer) => {
      clearTimeout(timer);
      socket.destroy();
      const { status, headers, body, elapsedMs } = answer;
      resolve({ status, headers, body, elapsedMs });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const answer = parse(Buffer.concat(chunks), performance.now() - started);
      if (answer.complete) finish(answer);
    });
    socket.on('error', () => {}); // a reset after the answer is the end of it
    socket.on('close', () => finish(parse(Buffer.concat(chunks), performance.now() - started)));
  });
}

/** A request line and headers, CRLF-terminated, for rawExchange. */
export const rawRequest = (method: string, path: string, headers: Record<string, string | number>, body = ''): string =>
  `${method} ${path} HTTP/1.1\r\n${Object.entries({ host: 'localhost', ...headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n${body}`;
