// A client that goes away in the middle of sending its body is no error of
// the index's: the request is logged as a client failure (4xx, at debug),
// never as a 500 or an unhandled error, nothing of it is applied, and the
// service keeps serving.
import { connect } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../security/raw-http.ts';
import { ndjson, startLocalTarget, type VectorizeTarget } from '../support/index-server.ts';
import { eventually } from '../support/timing.ts';

let target: VectorizeTarget;
const logged: { level: number; msg: string; path?: string; status?: number }[] = [];
const INDEX = 'abandoned';

beforeAll(async () => {
  target = await startLocalTarget({ logger: pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line)) }) });
  const created = await target.raw('', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: INDEX, config: { dimensions: 3, metric: 'cosine' } }) });
  expect(created.status).toBe(201);
});
afterAll(async () => {
  await target?.close();
});

/** Sends the headers and part of a body that `content-length` promises in full, then closes the socket. */
async function abandonMidBody(path: string, contentType: string, partialBody: string): Promise<void> {
  const { hostname, port, pathname } = new URL(target.baseURL);
  const socket = connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const headers = { authorization: `Bearer ${target.token}`, 'content-type': contentType, 'content-length': 1_000_000 };
  socket.write(rawRequest('POST', `${pathname}/accounts/a/vectorize/v2/indexes${path}`, headers, partialBody));
  // Long enough for the server to have begun reading the body.
  await new Promise((resolve) => setTimeout(resolve, 200));
  socket.destroy();
}

describe('a client that disconnects mid-body', () => {
  it.each([
    ['an NDJSON upload', `/${INDEX}/upsert`, 'application/x-ndjson', ndjson([{ id: 'half', values: [1, 2, 3] }])],
    ['a JSON query', `/${INDEX}/query`, 'application/json', '{"vector":[1,2,'],
  ])('%s is logged as a client failure, not a 500', async (_, path, contentType, partialBody) => {
    const suffix = `/vectorize/v2/indexes${path}`;
    const seen = logged.length;
    await abandonMidBody(path, contentType, partialBody);
    const line = await eventually(async () => logged.slice(seen).find((l) => l.msg === 'request' && l.path?.endsWith(suffix)), 'the request log line');
    expect(line.status).toBe(400);
    expect(line.level).toBeLessThan(40);
    expect(logged.slice(seen).filter((l) => l.level >= 40)).toEqual([]);
  });

  it('applies nothing of the abandoned upload and keeps serving', async () => {
    const info = await target.raw(`/${INDEX}/info`);
    expect(info.status).toBe(200);
    expect(((await info.json()) as { result: { vectorCount: number } }).result.vectorCount).toBe(0);
  });
});
