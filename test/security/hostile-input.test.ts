// Hostile input, table-driven, on the public and protected routes of the
// whole local stack: the worker in workerd, the embedder and the index as
// processes (test/support/worker-stack.ts). Every case must be answered
// with a 4xx error in the service's JSON shape, with a message, within a
// bounded time, without a stack trace, an internal path or an internal
// address in the body; and the service must answer its health check after.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Response as MiniflareResponse, type Request as MiniflareRequest } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../support/timing.ts';
import { ADMIN_TOKEN, EMBEDDER_TOKEN, startStack, type Stack } from '../support/worker-stack.ts';
import type { LocalWorker } from '../../scripts/worker/local.ts';
import { flatPng, jpegDeclaring, pngWithTextBomb, pngZlibBomb, polyglots, truncatedJpeg } from './hostile-images.ts';
import { rawExchange, rawRequest } from './raw-http.ts';

type Target = 'worker' | 'embedder' | 'index';

interface Answer {
  status: number;
  contentType: string;
  body: string;
  elapsedMs: number;
}

interface Case {
  target: Target;
  name: string;
  send: () => Promise<Answer>;
  status: number;
  /** The error code the service names (the index's are numbers). */
  code?: string | number;
  message?: RegExp;
  /** Client-supplied text the answer may repeat (a URL it refuses). */
  echoes?: string;
  /** Longer than the default bound (a request the server must first wait out). */
  withinMs?: number;
}

let stack: Stack;
let redirecting: LocalWorker;
let redirectTarget: Server;
let indexUrl: string;
const MiB = 1024 * 1024;

beforeAll(async () => {
  stack = await startStack({
    seed: 29,
    // Short enough that a request that never finishes is refused within the test's bound.
    embedderEnv: { EMBEDDER_HEADERS_TIMEOUT_MS: '1000', EMBEDDER_REQUEST_TIMEOUT_MS: '2000' },
  });
  indexUrl = stack.indexUrl;
  // An image host on the internet, as far as the worker can tell, that redirects wherever it is told.
  redirecting = await stack.addWorker({
    miniflare: {
      outboundService: async (request: MiniflareRequest) => {
        const url = new URL(request.url);
        if (url.hostname === 'images.example' && url.pathname === '/redirect')
          return new MiniflareResponse(null, { status: 302, headers: { location: url.searchParams.get('to')! } });
        return new MiniflareResponse('no such host', { status: 404 });
      },
    },
  });
  // What a redirect to loopback would reach: it must never be asked.
  redirectTarget = createServer((_, res) => res.end('internal secret'));
  await new Promise<void>((resolve) => redirectTarget.listen(0, '127.0.0.1', resolve));
}, 180_000);

afterAll(async () => {
  redirectTarget?.close();
  await stack?.close();
});

// ---- sending ------------------------------------------------------------------------

async function timed(send: () => Promise<Response>): Promise<Answer> {
  const started = performance.now();
  const response = await send();
  const body = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body, elapsedMs: performance.now() - started };
}

async function raw(url: string, request: string): Promise<Answer> {
  const answer = await rawExchange(url, request);
  return { status: answer.status, contentType: answer.headers['content-type'] ?? '', body: answer.body, elapsedMs: answer.elapsedMs };
}

const bytesOf = (body: string | Uint8Array) => (typeof body === 'string' ? Buffer.from(body) : body);

function request(base: () => string, headers: Record<string, string> = {}) {
  return {
    get: (path: string, extra: Record<string, string> = {}) => timed(() => fetch(`${base()}${path}`, { headers: { ...headers, ...extra } })),
    post: (path: string, body: string | Uint8Array | object, contentType = 'application/json', extra: Record<string, string> = {}) =>
      timed(() =>
        fetch(`${base()}${path}`, {
          method: 'POST',
          headers: { 'content-type': contentType, ...headers, ...extra },
          body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
        }),
      ),
    delete: (path: string, extra: Record<string, string> = {}) => timed(() => fetch(`${base()}${path}`, { method: 'DELETE', headers: { ...headers, ...extra } })),
  };
}

const worker = request(() => stack.worker.url);
const admin = request(() => stack.worker.url, { authorization: `Bearer ${ADMIN_TOKEN}` });
const embedder = request(() => stack.embedder.url, { authorization: `Bearer ${EMBEDDER_TOKEN}` });
const anonymousEmbedder = request(() => stack.embedder.url);
const index = request(() => indexUrl.replace(/\/search$/, ''));

/** A JSON body that is not UTF-8: a lone continuation byte inside a string. */
const notUtf8 = (prefix: string, suffix: string) => new Uint8Array([...Buffer.from(prefix), 0x80, 0xff, ...Buffer.from(suffix)]);
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const embedderImage = (bytes: Uint8Array, contentType = 'image/png') => embedder.post('/v1/embed/image', bytes, contentType);
const workerImage = (bytes: Uint8Array, contentType = 'image/png') => worker.post('/v1/search', bytes, contentType);

// ---- the cases ----------------------------------------------------------------------

/** URLs no service may fetch for a client, each in a spelling a careless check would let through. */
const SSRF_URLS = [
  'http://127.0.0.1/',
  'https://127.0.0.1:8790/v1/models',
  'https://10.0.0.1/photo.jpg',
  'https://192.168.1.1/photo.jpg',
  'https://172.16.0.1/photo.jpg',
  'https://100.64.0.1/photo.jpg',
  'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
  'https://[::1]/photo.jpg',
  'https://[fd00::1]/photo.jpg',
  'https://[fe80::1]/photo.jpg',
  'https://[::ffff:127.0.0.1]/photo.jpg',
  'https://[::ffff:7f00:1]/photo.jpg',
  'https://[::ffff:a9fe:a9fe]/latest/meta-data/',
  'https://2130706433/photo.jpg',
  'https://0x7f.1/photo.jpg',
  'https://0177.0.0.1/photo.jpg',
  'https://127.1/photo.jpg',
  'https://0/photo.jpg',
  'https://localhost/photo.jpg',
];
/**
 * Names the worker refuses by their spelling (workerd's fetch resolves names itself). The embedder
 * refuses what a name resolves to, when it connects, and this machine's resolver knows none of these.
 */
const PRIVATE_NAMES = ['https://LOCALHOST./photo.jpg', 'https://metadata.google.internal/computeMetadata/v1/', 'https://printer.local/a.png', 'https://router.home.arpa/a.png'];
const SCHEMES = ['file:///etc/passwd', 'ftp://example.com/a.png', 'gopher://127.0.0.1:6379/_INFO', 'javascript:alert(1)', 'data:text/html,<script>alert(1)</script>'];

const workerCases = (): Case[] => [
  // JSON
  { target: 'worker', name: 'malformed JSON', send: () => worker.post('/v1/search', '{"text":'), status: 400, code: 'invalid_json' },
  { target: 'worker', name: 'JSON nested 100,000 deep', send: () => worker.post('/v1/search', `{"text":"a","filter":${nested(100_000)}}`), status: 400, code: 'invalid_json', message: /nested/ },
  { target: 'worker', name: 'JSON that is not UTF-8', send: () => worker.post('/v1/search', notUtf8('{"text":"', '"}')), status: 400, code: 'invalid_json', message: /UTF-8/ },
  { target: 'worker', name: 'a JSON array for an object', send: () => worker.post('/v1/search', '[1,2,3]'), status: 400, code: 'invalid_parameter' },
  // Refused from the declared length, before the body is read (a client still sending would see its connection reset).
  { target: 'worker', name: 'a body over MAX_JSON_BYTES', send: () => raw(stack.worker.url, rawRequest('POST', '/v1/search', { 'content-type': 'application/json', 'content-length': 7 * MiB })), status: 413, code: 'body_too_large' },
  { target: 'worker', name: 'an image body over MAX_IMAGE_BYTES', send: () => raw(stack.worker.url, rawRequest('POST', '/v1/search', { 'content-type': 'image/png', 'content-length': 5 * MiB })), status: 413, code: 'body_too_large' },
  { target: 'worker', name: 'a query of 12,000 characters', send: () => worker.get(`/v1/search?q=${'a'.repeat(12_000)}`), status: 400, code: 'invalid_parameter' },
  { target: 'worker', name: 'a query string that does not decode', send: () => worker.get('/v1/search?q=%FF%FE'), status: 400, code: 'invalid_parameter', message: /UTF-8/ },
  { target: 'worker', name: 'an unknown query parameter', send: () => worker.get('/v1/search?q=cat&debug=1'), status: 400, code: 'invalid_parameter' },
  { target: 'worker', name: 'a search as text/plain', send: () => worker.post('/v1/search', '{"text":"cat"}', 'text/plain'), status: 415, code: 'unsupported_media_type' },
  { target: 'worker', name: 'a search as a form', send: () => worker.post('/v1/search', 'text=cat', 'application/x-www-form-urlencoded'), status: 415, code: 'unsupported_media_type' },
  // images
  { target: 'worker', name: 'a truncated JPEG', send: () => workerImage(truncatedBytes.jpeg, 'image/jpeg'), status: 400, code: 'corrupt_image' },
  { target: 'worker', name: 'an empty image', send: () => workerImage(new Uint8Array(0)), status: 400, code: 'empty_image' },
  { target: 'worker', name: 'a GIF that is JavaScript', send: () => workerImage(polyglots.gifScript(), 'image/gif'), status: 400, code: 'corrupt_image' },
  { target: 'worker', name: 'a JPEG that is HTML', send: () => workerImage(polyglots.jpegHtml(), 'image/jpeg'), status: 400, code: 'corrupt_image' },
  { target: 'worker', name: 'a PNG that is a ZIP', send: () => workerImage(polyglots.pngZip()), status: 400, code: 'corrupt_image' },
  { target: 'worker', name: 'a PDF as an image', send: () => workerImage(polyglots.pdf()), status: 415, code: 'unsupported_image_format' },
  { target: 'worker', name: 'a 269-byte JPEG declaring 7000×7000', send: () => workerImage(bombs.jpeg, 'image/jpeg'), status: 413, code: 'decompression_bomb' },
  { target: 'worker', name: 'a PNG zlib bomb, as base64 in JSON', send: () => worker.post('/v1/search', { image: base64(bombs.zlib) }), status: 413, code: 'decompression_bomb' },
  { target: 'worker', name: 'a PNG whose zTXt inflates to 50 MB', send: () => workerImage(bombs.text), status: 413, code: 'decompression_bomb' },
  { target: 'worker', name: 'an image declaring 50,000×50,000', send: () => workerImage(bombs.huge), status: 413, code: 'image_too_large' },
  { target: 'worker', name: 'base64 that is not', send: () => worker.post('/v1/search', { image: '!!!not base64!!!' }), status: 400, code: 'invalid_image' },
  // image URLs
  ...[...SSRF_URLS, ...PRIVATE_NAMES, ...SCHEMES].map(
    (url): Case => ({ target: 'worker', name: `the image URL ${url}`, send: () => worker.post('/v1/search', { image: url }), status: 400, code: 'invalid_image', echoes: url }),
  ),
  ...['http://127.0.0.1:PORT/secret', 'https://10.0.0.1/x.png', 'https://169.254.169.254/latest/meta-data/', 'https://[::ffff:127.0.0.1]/x', 'https://localhost/x', 'file:///etc/passwd'].map(
    (to): Case => ({
      target: 'worker',
      name: `a redirect to ${to}`,
      send: () => {
        const target = to.replace('PORT', String((redirectTarget.address() as AddressInfo).port));
        return request(() => redirecting.url).post('/v1/search', { image: `https://images.example/redirect?to=${encodeURIComponent(target)}` });
      },
      status: 400,
      code: 'invalid_image',
    }),
  ),
  // filters
  { target: 'worker', name: 'a filter with an unknown operator', send: () => worker.post('/v1/search', { text: 'a', filter: { kind: { $regex: '.*' } } }), status: 400, code: 'invalid_parameter' },
  { target: 'worker', name: 'a filter with $where', send: () => worker.get(`/v1/search?q=a&filter=${encodeURIComponent('{"$where":"sleep(1000)"}')}`), status: 400, code: 'invalid_parameter' },
  { target: 'worker', name: 'a filter $in of 10,000 values', send: () => worker.post('/v1/search', { text: 'a', filter: { kind: { $in: Array.from({ length: 10_000 }, (_, i) => `k${i}`) } } }), status: 400, code: 'invalid_parameter' },
  { target: 'worker', name: 'a filter that is not JSON', send: () => worker.get('/v1/search?q=a&filter=%7Bkind'), status: 400, code: 'invalid_parameter' },
  { target: 'worker', name: 'a filter nested 20 deep', send: () => worker.post('/v1/search', { text: 'a', filter: JSON.parse(nested(20)) }), status: 400, code: 'invalid_parameter' },
  { target: 'worker', name: 'a vector of 100,000 numbers', send: () => worker.post('/v1/search', { vector: Array(100_000).fill(0.1) }), status: 400, code: 'invalid_parameter' },
  { target: 'worker', name: 'k = 1e9', send: () => worker.get('/v1/search?q=a&k=1000000000'), status: 400, code: 'invalid_parameter' },
  // ids
  { target: 'worker', name: 'an id with a path traversal (a valid id, not stored)', send: () => worker.get(`/v1/items/${encodeURIComponent('../../etc/passwd')}`), status: 404, code: 'item_not_found' },
  { target: 'worker', name: 'an id with a NUL', send: () => worker.get('/v1/items/a%00b'), status: 400, code: 'invalid_parameter', message: /control/ },
  { target: 'worker', name: 'an id with a newline', send: () => admin.delete('/v1/items/a%0Ab'), status: 400, code: 'invalid_parameter', message: /control/ },
  { target: 'worker', name: 'an id of 65 bytes', send: () => worker.get(`/v1/items/${'x'.repeat(65)}`), status: 400, code: 'invalid_parameter', message: /64 bytes/ },
  { target: 'worker', name: 'an id of ".." (percent-encoded)', send: () => worker.get('/v1/items/%2e%2e'), status: 404, code: 'not_found' },
  { target: 'worker', name: 'an id with a lone surrogate', send: () => admin.post('/v1/items', `{"items":[{"id":"a\\ud800","vector":[${Array(stack.dim).fill(0.5)}]}]}`), status: 400, code: 'invalid_parameter', message: /surrogate/ },
  { target: 'worker', name: 'an id with an escape sequence', send: () => admin.post('/v1/items', { items: [{ id: '\u001b[2J', vector: Array(stack.dim).fill(0.5) }] }), status: 400, code: 'invalid_parameter', message: /control/ },
  { target: 'worker', name: 'an id of ".."', send: () => admin.post('/v1/items:delete', { ids: ['ok', '..'] }), status: 400, code: 'invalid_parameter' },
  { target: 'worker', name: 'a search by a right-to-left id', send: () => worker.post('/v1/search', { id: 'invoice\u202egpj.exe' }), status: 400, code: 'invalid_parameter', message: /bidirectional/ },
  // tokens
  { target: 'worker', name: 'an admin write without a token', send: () => worker.post('/v1/items', { items: [] }), status: 401, code: 'unauthorized' },
  { target: 'worker', name: 'an admin write with a wrong token', send: () => worker.post('/v1/items', { items: [] }, 'application/json', { authorization: 'Bearer wrong' }), status: 403, code: 'forbidden' },
  { target: 'worker', name: 'an admin write with Basic credentials', send: () => worker.post('/v1/items', { items: [] }, 'application/json', { authorization: `Basic ${base64(Buffer.from(`admin:${ADMIN_TOKEN}`))}` }), status: 401, code: 'unauthorized' },
  { target: 'worker', name: 'an admin delete with "Bearer" and no token', send: () => worker.delete('/v1/items/x', { authorization: 'Bearer ' }), status: 401, code: 'unauthorized' },
  { target: 'worker', name: 'an admin delete with the token and more', send: () => worker.delete('/v1/items/x', { authorization: `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}` }), status: 401, code: 'unauthorized' },
  { target: 'worker', name: 'an admin delete with the token as a prefix', send: () => worker.delete('/v1/items/x', { authorization: `Bearer ${ADMIN_TOKEN}x` }), status: 403, code: 'forbidden' },
  // routes
  { target: 'worker', name: 'an unknown route', send: () => worker.get('/admin/../../etc/passwd'), status: 404, code: 'not_found' },
  { target: 'worker', name: 'a method no route takes', send: () => timed(() => fetch(`${stack.worker.url}/v1/search`, { method: 'PUT', body: '{}' })), status: 404, code: 'not_found' },
];

const embedderCases = (): Case[] => [
  { target: 'embedder', name: 'no token', send: () => anonymousEmbedder.post('/v1/embed/text', { text: 'a' }), status: 401, code: 'unauthorized' },
  { target: 'embedder', name: 'a wrong token', send: () => anonymousEmbedder.post('/v1/embed/text', { text: 'a' }, 'application/json', { authorization: 'Bearer wrong' }), status: 401, code: 'unauthorized' },
  { target: 'embedder', name: 'a malformed Authorization header', send: () => anonymousEmbedder.post('/v1/embed/text', { text: 'a' }, 'application/json', { authorization: EMBEDDER_TOKEN }), status: 401, code: 'unauthorized' },
  { target: 'embedder', name: 'malformed JSON', send: () => embedder.post('/v1/embeddings', '{"input":'), status: 400, code: 'invalid_json' },
  { target: 'embedder', name: 'JSON nested 100,000 deep', send: () => embedder.post('/v1/embeddings', `{"input":${'['.repeat(100_000)}${']'.repeat(100_000)}}`), status: 400, code: 'invalid_json', message: /nested/ },
  { target: 'embedder', name: 'JSON that is not UTF-8', send: () => embedder.post('/v1/embed/text', notUtf8('{"text":"', '"}')), status: 400, code: 'invalid_json', message: /UTF-8/ },
  {
    target: 'embedder',
    name: 'a body declared at 40 MiB',
    send: () => raw(stack.embedder.url, rawRequest('POST', '/v1/embed/text', { authorization: `Bearer ${EMBEDDER_TOKEN}`, 'content-type': 'application/json', 'content-length': 40 * MiB })),
    status: 413,
    code: 'body_too_large',
  },
  {
    target: 'embedder',
    name: 'a body that promises more than it sends',
    send: () => raw(stack.embedder.url, rawRequest('POST', '/v1/embed/text', { authorization: `Bearer ${EMBEDDER_TOKEN}`, 'content-type': 'application/json', 'content-length': 1000 }, '{"text":"a')),
    status: 408,
    code: 'request_timeout',
    withinMs: 8000,
  },
  { target: 'embedder', name: 'headers of 20 KB', send: () => raw(stack.embedder.url, rawRequest('GET', '/healthz', { 'x-padding': 'p'.repeat(20_000) })), status: 431, code: 'headers_too_large' },
  { target: 'embedder', name: 'a request line that is not HTTP', send: () => raw(stack.embedder.url, 'GET / HTTP/9.9 x\r\n\r\n'), status: 400, code: 'bad_request' },
  { target: 'embedder', name: 'texts of the wrong type', send: () => embedder.post('/v1/embed/text', { texts: [{ $gt: '' }] }), status: 400, code: 'invalid_request' },
  { target: 'embedder', name: 'JSON sent as an image', send: () => embedderImage(Buffer.from('{"text":"a"}'), 'application/json'), status: 415, code: 'unsupported_image_format' },
  { target: 'embedder', name: 'a multipart body without a boundary', send: () => embedderImage(Buffer.from('--x\r\n\r\n'), 'multipart/form-data'), status: 400, code: 'invalid_multipart' },
  { target: 'embedder', name: 'a truncated JPEG', send: () => embedderImage(truncatedBytes.jpeg, 'image/jpeg'), status: 400, code: 'corrupt_image' },
  { target: 'embedder', name: 'a GIF that is JavaScript', send: () => embedderImage(polyglots.gifScript(), 'image/gif'), status: 400, code: 'corrupt_image' },
  { target: 'embedder', name: 'a PNG that is a ZIP', send: () => embedderImage(polyglots.pngZip()), status: 400, code: 'corrupt_image' },
  { target: 'embedder', name: 'a 269-byte JPEG declaring 7000×7000', send: () => embedderImage(bombs.jpeg, 'image/jpeg'), status: 413, code: 'decompression_bomb' },
  { target: 'embedder', name: 'a PNG zlib bomb', send: () => embedderImage(bombs.zlib), status: 413, code: 'decompression_bomb' },
  { target: 'embedder', name: 'a PNG whose zTXt inflates to 50 MB', send: () => embedderImage(bombs.text), status: 413, code: 'decompression_bomb' },
  ...SSRF_URLS.map(
    (url): Case => ({ target: 'embedder', name: `the image URL ${url}`, send: () => embedder.post('/v1/embeddings', { input: [{ image: url }] }), status: 403, code: 'url_forbidden' }),
  ),
  ...SCHEMES.map(
    (url): Case => ({ target: 'embedder', name: `the image reference ${url}`, send: () => embedder.post('/v1/embeddings', { input: [{ image: url }] }), status: 400, code: 'invalid_image' }),
  ),
  { target: 'embedder', name: 'an unknown route', send: () => embedder.get('/v1/../../etc/passwd'), status: 404, code: 'not_found' },
];

const ndjsonLine = (id: string, extra: Record<string, unknown> = {}) => JSON.stringify({ id, values: Array(stack.dim).fill(0.25), ...extra });
const upload = (body: string) => index.post('/search/upsert', body, 'application/x-ndjson');

const indexCases = (): Case[] => [
  { target: 'index', name: 'malformed JSON', send: () => index.post('/search/query', '{"vector":'), status: 400, code: 40026 },
  { target: 'index', name: 'JSON nested 100,000 deep', send: () => index.post('/search/query', `{"vector":[1],"filter":${nested(100_000)}}`), status: 400, code: 40026, message: /nested/ },
  { target: 'index', name: 'JSON that is not UTF-8', send: () => index.post('/search/get_by_ids', notUtf8('{"ids":["', '"]}')), status: 400, code: 40026, message: /UTF-8/ },
  { target: 'index', name: 'a query as text/plain', send: () => index.post('/search/query', '{"vector":[1]}', 'text/plain'), status: 400, code: 40026 },
  {
    target: 'index',
    name: 'a body declared at 200 MiB',
    send: () => raw(stack.index.url, rawRequest('POST', '/client/v4/accounts/local/vectorize/v2/indexes/search/upsert', { 'content-type': 'application/x-ndjson', 'content-length': 200 * MiB })),
    status: 413,
    code: 40013,
  },
  { target: 'index', name: 'headers of 20 KB', send: () => raw(stack.index.url, rawRequest('GET', '/client/v4/accounts/local/vectorize/v2/indexes', { 'x-padding': 'p'.repeat(20_000) })), status: 431, code: 40016 },
  { target: 'index', name: 'a request line that is not HTTP', send: () => raw(stack.index.url, '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n'), status: 400, code: 40026 },
  { target: 'index', name: 'an NDJSON line with a NUL in its id', send: () => upload(ndjsonLine('a\u0000b')), status: 400, code: 40014, message: /control/ },
  { target: 'index', name: 'an NDJSON line with a lone surrogate id', send: () => upload(`{"id":"\\udc00","values":[${Array(stack.dim).fill(0.25)}]}`), status: 400, code: 40014, message: /surrogate/ },
  { target: 'index', name: 'an NDJSON line with id ".."', send: () => upload(ndjsonLine('..')), status: 400, code: 40014 },
  { target: 'index', name: 'an NDJSON line with a 65-byte id', send: () => upload(ndjsonLine('é'.repeat(32) + 'x')), status: 400, code: 40008 },
  { target: 'index', name: 'an NDJSON line with metadata nested 50,000 deep', send: () => upload(`${ndjsonLine('deep').slice(0, -1)},"metadata":${nested(50_000)}}`), status: 400, code: 40009 },
  { target: 'index', name: 'get_by_ids with a control character', send: () => index.post('/search/get_by_ids', { ids: ['ok', 'bell\u0007'] }), status: 400, code: 40026, message: /control/ },
  { target: 'index', name: 'a filter with an unknown operator', send: () => index.post('/search/query', { vector: Array(stack.dim).fill(0.1), filter: { kind: { $regex: '.*' } } }), status: 400, code: 40020 },
  { target: 'index', name: 'a filter $in of 10,000 values', send: () => index.post('/search/query', { vector: Array(stack.dim).fill(0.1), filter: { kind: { $in: Array.from({ length: 10_000 }, (_, i) => i) } } }), status: 400, code: 40020 },
  { target: 'index', name: 'topK = 1e9', send: () => index.post('/search/query', { vector: Array(stack.dim).fill(0.1), topK: 1e9 }), status: 400, code: 40025 },
  { target: 'index', name: 'a list count of 5,000', send: () => index.get('/search/list?count=5000'), status: 400, code: 40026 },
  { target: 'index', name: 'an unknown index', send: () => index.get('/../nothing/info'), status: 404 },
];

// Built before the cases run (they are sent from synchronous case tables).
let truncatedBytes: { jpeg: Uint8Array };
let bombs: { jpeg: Uint8Array; zlib: Uint8Array; text: Uint8Array; huge: Uint8Array };
beforeAll(async () => {
  truncatedBytes = { jpeg: await truncatedJpeg(300) };
  const huge = await flatPng(64, 64);
  // The IHDR of a real PNG rewritten to 50,000×50,000 (the CRC no longer matters: the size is refused first).
  const lying = Buffer.from(huge);
  lying.writeUInt32BE(50_000, 16);
  lying.writeUInt32BE(50_000, 20);
  bombs = { jpeg: await jpegDeclaring(7000, 7000), zlib: pngZlibBomb(7000, 7000), text: await pngWithTextBomb(50 * MiB), huge: new Uint8Array(lying) };
});

// ---- the checks ---------------------------------------------------------------------

const DEFAULT_BOUND_MS = 10_000;
const STACK_TRACE = /\n\s+at |\bat [\w.<>]+ \(|\.(?:ts|js|mjs|cjs):\d+/;
const INTERNAL_PATH = /\/work\/|node_modules|\/tmp\/|\/home\/|\/usr\/|[A-Z]:\\/;
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;

/** The error's code and message, in the target's envelope. */
function errorOf(target: Target, body: unknown): { code: unknown; message: unknown } {
  if (target === 'index') {
    const envelope = body as { success?: unknown; result?: unknown; errors?: { code: unknown; message: unknown }[] };
    expect(envelope).toMatchObject({ success: false, result: null });
    expect(envelope.errors).toHaveLength(1);
    return envelope.errors![0]!;
  }
  const { error } = body as { error?: { code: unknown; message: unknown } };
  expect(Object.keys(body as object)).toEqual(['error']);
  return error!;
}

async function healthy(target: Target): Promise<boolean> {
  const url = { worker: `${stack.worker.url}/`, embedder: `${stack.embedder.url}/healthz`, index: indexUrl.replace(/\/search$/, '') }[target];
  return (await fetch(url)).ok;
}

function internalAddresses(): string[] {
  const hostPort = (url: string) => new URL(url).host;
  return [hostPort(stack.embedder.url), hostPort(stack.index.url), `127.0.0.1:${(redirectTarget.address() as AddressInfo).port}`, 'internal secret'];
}

async function check(c: Case): Promise<void> {
  const answer = await c.send();
  const where = `${c.target}: ${c.name} → ${answer.status} ${answer.body.slice(0, 300)}`;
  expect(answer.status, where).toBe(c.status);
  expect(answer.status, where).toBeGreaterThanOrEqual(400);
  expect(answer.status, where).toBeLessThan(500);
  expect(answer.contentType, where).toMatch(/^application\/json/);
  expect(answer.elapsedMs, where).toBeLessThan(c.withinMs ?? DEFAULT_BOUND_MS);
  const { code, message } = errorOf(c.target, JSON.parse(answer.body));
  if (c.code !== undefined) expect(code, where).toBe(c.code);
  expect(typeof message === 'string' && message.length > 0, where).toBe(true);
  if (c.message) expect(message, where).toMatch(c.message);
  expect(answer.body, where).not.toMatch(STACK_TRACE);
  expect(answer.body, where).not.toMatch(INTERNAL_PATH);
  for (const internal of internalAddresses()) expect(answer.body, where).not.toContain(internal);
  for (const address of answer.body.match(IPV4) ?? []) expect(c.echoes ?? '', `${where}: names ${address}`).toContain(address);
  expect(await healthy(c.target), `${c.target} serves after: ${c.name}`).toBe(true);
}

describe('hostile input to the worker', () => {
  it.each(workerCases().map((c) => [c.name, c] as const))('%s', async (_, c) => check(c), 30_000);
});

describe('hostile input to the embedder', () => {
  it.each(embedderCases().map((c) => [c.name, c] as const))('%s', async (_, c) => check(c), 30_000);
});

describe('hostile input to the index', () => {
  it.each(indexCases().map((c) => [c.name, c] as const))('%s', async (_, c) => check(c), 30_000);
});

describe('ids', () => {
  it('every accepted id can be read and deleted through GET/DELETE /v1/items/{id}, percent-encoded', async () => {
    const ids = [
      'photos/2020/beach.jpg',
      '../../etc/passwd',
      'https://example.com/a.jpg?size=l#top',
      ` "quoted" 100% <a&b>=c; d+e `,
      '%2F%41',
      '...',
      'Привет-東京-👩‍👩‍👧',
      'é'.repeat(32),
    ];
    const vector = Array.from({ length: stack.dim }, (_, i) => Math.sin(i + 1));
    const written = await admin.post('/v1/items', { items: ids.map((id) => ({ id, vector, metadata: { kind: 'odd-id' } })) });
    expect(written.status, written.body).toBe(202);
    for (const id of ids) {
      const path = `/v1/items/${encodeURIComponent(id)}`;
      const read = await worker.get(path);
      expect([read.status, (JSON.parse(read.body) as { id: string }).id], id).toEqual([200, id]);
      expect((await admin.delete(path)).status, id).toBe(202);
      expect((await worker.get(path)).status, id).toBe(404);
    }
  });
});

describe('the local rate limiter', () => {
  it('is not escaped by sending another CF-Connecting-IP: locally every client shares one bucket', async () => {
    const limited = await stack.addWorker({ rateLimit: { limit: 3, period: 60 } });
    try {
      // Miniflare counts in windows aligned to the clock; five calls must not straddle two of them.
      const msLeftInWindow = 60_000 - (Date.now() % 60_000);
      if (msLeftInWindow < 10_000) await sleep(msLeftInWindow + 100);
      const statuses: number[] = [];
      for (let i = 1; i <= 5; i++) {
        const response = await fetch(`${limited.url}/v1/items/none`, { headers: { 'cf-connecting-ip': `198.51.100.${i}` } });
        statuses.push(response.status);
        if (response.status === 429) expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/all clients/);
        else await response.body?.cancel();
      }
      expect(statuses).toEqual([404, 404, 404, 429, 429]);
    } finally {
      await limited.close();
    }
  });
});
