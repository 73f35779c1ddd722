// The local service's HTTP edge: bad input of every kind gets a 4xx in the
// Cloudflare envelope, nothing is half-applied, and the server keeps serving.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange, rawRequest } from '../security/raw-http.ts';
import { ndjson, startLocalTarget, type VectorizeTarget } from '../support/index-server.ts';

let target: VectorizeTarget;
const INDEX = 'robust';

interface Envelope {
  success: boolean;
  result: unknown;
  errors: { code: number; message: string }[];
  messages: unknown[];
}

async function call(path: string, init: RequestInit = {}): Promise<{ status: number; body: Envelope }> {
  const response = await target.raw(path, init);
  return { status: response.status, body: (await response.json()) as Envelope };
}

const post = (path: string, body: string, contentType = 'application/json') =>
  call(path, { method: 'POST', body, headers: { 'content-type': contentType } });

async function expectError(promise: Promise<{ status: number; body: Envelope }>, status: number, code: number) {
  const { status: got, body } = await promise;
  expect({ status: got, code: body.errors[0]?.code }).toEqual({ status, code });
  expect(body).toMatchObject({ success: false, result: null, messages: [] });
  expect(body.errors[0]!.message).toEqual(expect.any(String));
  return body.errors[0]!.message;
}

const vectorCount = async () => ((await call(`/${INDEX}/info`)).body.result as { vectorCount: number }).vectorCount;

beforeAll(async () => {
  target = await startLocalTarget();
  await post('', JSON.stringify({ name: INDEX, config: { dimensions: 3, metric: 'cosine' } }));
  await post(`/${INDEX}/insert`, ndjson([{ id: 'keep', values: [1, 2, 3], metadata: { k: 1 } }]), 'application/x-ndjson');
});
afterAll(async () => {
  await target.close();
});

describe('vector uploads', () => {
  it('rejects malformed NDJSON without applying any line (40023)', async () => {
    const body = `${JSON.stringify({ id: 'ok1', values: [1, 0, 0] })}\n{"id": "broken", "values": [1, 0\n`;
    const message = await expectError(post(`/${INDEX}/insert`, body, 'application/x-ndjson'), 400, 40023);
    expect(message).toContain('line 2');
    expect(await vectorCount()).toBe(1);
  });

  it('skips unparsable lines with unparsable-behavior=discard', async () => {
    const body = ['not json', JSON.stringify({ id: 'd1', values: [0, 1, 0] }), '[1,2,3]', JSON.stringify({ id: 7, values: [1, 1, 1] })].join('\n');
    const { status } = await post(`/${INDEX}/upsert?unparsable-behavior=discard`, body, 'application/x-ndjson');
    expect(status).toBe(200);
    expect(await vectorCount()).toBe(2);
    await expectError(post(`/${INDEX}/upsert?unparsable-behavior=maybe`, body, 'application/x-ndjson'), 400, 40026);
  });

  it.each<[string, unknown, number]>([
    ['values with strings', { id: 'x', values: [1, '2', 3] }, 40011],
    ['values beyond float32', { id: 'x', values: [1, 1e39, 3] }, 40011],
    ['values not an array', { id: 'x', values: { 0: 1 } }, 40023],
    ['a numeric id', { id: 5, values: [1, 2, 3] }, 40023],
    ['an empty id', { id: '', values: [1, 2, 3] }, 40008],
    ['metadata that is an array', { id: 'x', values: [1, 2, 3], metadata: [1] }, 40009],
    ['a dotted metadata key', { id: 'x', values: [1, 2, 3], metadata: { 'a.b': 1 } }, 40009],
    ['a nested $ metadata key', { id: 'x', values: [1, 2, 3], metadata: { a: { $b: 1 } } }, 40009],
    ['a numeric namespace', { id: 'x', values: [1, 2, 3], namespace: 3 }, 40010],
    ['a namespace over 64 bytes', { id: 'x', values: [1, 2, 3], namespace: 'n'.repeat(65) }, 40010],
  ])('rejects %s', async (_, vector, code) => {
    await expectError(post(`/${INDEX}/insert`, JSON.stringify(vector), 'application/x-ndjson'), 400, code);
  });

  it('rejects an empty upload', async () => {
    await expectError(post(`/${INDEX}/insert`, '\n\n', 'application/x-ndjson'), 400, 40023);
  });

  it('accepts a multipart `vectors` file, as wrangler sends it', async () => {
    const form = new FormData();
    form.append('vectors', new Blob([ndjson([{ id: 'mp', values: [0, 0, 1] }])]), 'vectors.ndjson');
    const response = await target.raw(`/${INDEX}/upsert`, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    const got = await post(`/${INDEX}/get_by_ids`, JSON.stringify({ ids: ['mp'] }));
    expect(got.body.result).toEqual([{ id: 'mp', values: [0, 0, 1] }]);

    const empty = new FormData();
    empty.append('other', 'x');
    const { status, body } = await target.raw(`/${INDEX}/upsert`, { method: 'POST', body: empty }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as Envelope,
    }));
    expect({ status, code: body.errors[0]?.code }).toEqual({ status: 400, code: 40023 });
  });

  it('refuses an upload declared over 100 MB before reading it (413)', async () => {
    const url = new URL(`${target.baseURL}/accounts/a/vectorize/v2/indexes/${INDEX}/insert`);
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        url,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${target.token}`,
            'content-type': 'application/x-ndjson',
            'content-length': String(101 * 1024 * 1024),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk));
          res.on('end', () => {
            resolve({ status: res.statusCode!, body: text });
            req.destroy();
          });
        },
      );
      req.on('error', reject);
      req.write('{"id":"x","values":[1,2,3]}\n');
    });
    expect(status).toBe(413);
    expect(JSON.parse(body)).toMatchObject({ success: false, errors: [{ code: 40013 }] });
  });
});

describe('JSON endpoints', () => {
  it('rejects a JSON body over the limit (413)', async () => {
    const huge = JSON.stringify({ vector: [1, 2, 3], pad: 'x'.repeat(3 * 1024 * 1024) });
    await expectError(post(`/${INDEX}/query`, huge), 413, 40013);
  });

  it('counts a chunked body without Content-Length against the limit (413)', async () => {
    const url = new URL(`${target.baseURL}/accounts/a/vectorize/v2/indexes/${INDEX}/query`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      const chunk = 'x'.repeat(256 * 1024);
      for (let i = 0; i < 12; i++) req.write(chunk); // 3 MiB, Transfer-Encoding: chunked
      req.end();
    });
    expect(status).toBe(413);
  });

  it.each<[string, string, string]>([
    ['invalid JSON', '{"vector": [1, 2', 'application/json'],
    ['a JSON array', '[1, 2, 3]', 'application/json'],
    ['a non-JSON content type', JSON.stringify({ vector: [1, 2, 3] }), 'text/plain'],
    ['a missing vector', JSON.stringify({ topK: 3 }), 'application/json'],
    ['both vector and vectorId', JSON.stringify({ vector: [1, 2, 3], vectorId: 'keep' }), 'application/json'],
    ['a string topK', JSON.stringify({ vector: [1, 2, 3], topK: '5' }), 'application/json'],
    ['a fractional topK', JSON.stringify({ vector: [1, 2, 3], topK: 2.5 }), 'application/json'],
    ['topK 0', JSON.stringify({ vector: [1, 2, 3], topK: 0 }), 'application/json'],
    ['string vector values', JSON.stringify({ vector: ['1', 2, 3] }), 'application/json'],
    ['returnMetadata true', JSON.stringify({ vector: [1, 2, 3], returnMetadata: true }), 'application/json'],
  ])('query rejects %s (40026)', async (_, body, type) => {
    await expectError(post(`/${INDEX}/query`, body, type), 400, 40026);
  });

  it('answers 404 for queryById with an unknown id (40005)', async () => {
    await expectError(post(`/${INDEX}/query`, JSON.stringify({ vectorId: 'nope' })), 404, 40005);
  });

  it('validates ids requests', async () => {
    await expectError(post(`/${INDEX}/get_by_ids`, JSON.stringify({ ids: 'keep' })), 400, 40026);
    await expectError(post(`/${INDEX}/get_by_ids`, JSON.stringify({ ids: [] })), 400, 40026);
    await expectError(post(`/${INDEX}/delete_by_ids`, JSON.stringify({ ids: Array.from({ length: 1001 }, String) })), 400, 40026);
  });

  it('validates index creation', async () => {
    const create = (body: unknown) => post('', JSON.stringify(body));
    await expectError(create({ name: 'Bad_Name', config: { dimensions: 3, metric: 'cosine' } }), 400, 40001);
    await expectError(create({ name: '../escape', config: { dimensions: 3, metric: 'cosine' } }), 400, 40001);
    await expectError(create({ name: 'n'.repeat(65), config: { dimensions: 3, metric: 'cosine' } }), 400, 40001);
    await expectError(create({ name: 'ok', config: { dimensions: 1537, metric: 'cosine' } }), 400, 40026);
    await expectError(create({ name: 'ok', config: { dimensions: 3, metric: 'manhattan' } }), 400, 40026);
    await expectError(create({ name: 'ok', config: { preset: 'unknown/model' } }), 400, 40026);
    await expectError(create({ name: INDEX, config: { dimensions: 3, metric: 'cosine' } }), 400, 40002);
  });

  it('validates metadata index requests', async () => {
    const create = (propertyName: unknown, indexType: unknown = 'string') =>
      post(`/${INDEX}/metadata_index/create`, JSON.stringify({ propertyName, indexType }));
    await expectError(create('p', 'date'), 400, 40026);
    await expectError(create('$p'), 400, 40026);
    for (let i = 0; i < 10; i++) expect((await create(`p${i}`)).status).toBe(200);
    await expectError(create('p0'), 400, 40030);
    await expectError(create('p10'), 400, 40030);
    await expectError(post(`/${INDEX}/metadata_index/delete`, JSON.stringify({ propertyName: 'none' })), 400, 40030);
    for (let i = 0; i < 10; i++)
      expect((await post(`/${INDEX}/metadata_index/delete`, JSON.stringify({ propertyName: `p${i}` }))).status).toBe(200);
  });

  it('validates list paging', async () => {
    await expectError(call(`/${INDEX}/list?count=0`), 400, 40026);
    await expectError(call(`/${INDEX}/list?count=1001`), 400, 40026);
    await expectError(call(`/${INDEX}/list?count=abc`), 400, 40026);
  });
});

describe('routing and authentication', () => {
  it('answers unknown routes with the envelope (7000)', async () => {
    const response = await fetch(`${target.baseURL}/nowhere`, { headers: { authorization: `Bearer ${target.token}` } });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ success: false, errors: [{ code: 7000 }] });
    await expectError(call(`/${INDEX}/query`), 404, 7000); // GET on a POST route
  });

  it('requires the bearer token on every route (401)', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: `Basic ${target.token}` }]) {
      const response = await fetch(`${target.baseURL}/accounts/a/vectorize/v2/indexes`, { headers });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ success: false, result: null, errors: [{ code: 10000 }] });
    }
  });

  it('answers in the envelope what its HTTP layer refuses: a body that never comes (408), oversized headers (431), malformed HTTP (400)', async () => {
    const slow = await startLocalTarget({ timeouts: { headersMs: 300, requestMs: 600 } });
    try {
      const auth = { authorization: `Bearer ${slow.token}` };
      const path = new URL(`${slow.baseURL}/accounts/a/vectorize/v2/indexes`).pathname;
      const refused = async (request: string, status: number, code: number) => {
        const answer = await rawExchange(slow.baseURL, request);
        expect([answer.status, answer.headers['content-type'], JSON.parse(answer.body)]).toEqual([
          status,
          'application/json',
          { result: null, success: false, errors: [{ code, message: expect.any(String) }], messages: [] },
        ]);
        return answer;
      };
      const promisedMore = await refused(rawRequest('POST', path, { ...auth, 'content-type': 'application/json', 'content-length': 500 }, '{"name":'), 408, 40015);
      expect(promisedMore.elapsedMs).toBeLessThan(5000);
      await refused(`GET ${path} HTTP/1.1\r\nhost: localhost\r\n`, 408, 40015);
      await refused(rawRequest('GET', path, { ...auth, 'x-padding': 'p'.repeat(20_000) }), 431, 40016);
      await refused('GET / HTTP/1.1\r\nhost: localhost\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n', 400, 40026);
      expect((await fetch(`${slow.baseURL}/accounts/a/vectorize/v2/indexes`, { headers: auth })).status).toBe(200);
    } finally {
      await slow.close();
    }
  });

  it('still serves, with the original data intact, after all of the above', async () => {
    const { status, body } = await post(`/${INDEX}/query`, JSON.stringify({ vector: [1, 2, 3], topK: 1, returnMetadata: 'all' }));
    expect(status).toBe(200);
    expect(body.result).toMatchObject({ count: 1, matches: [{ id: 'keep', metadata: { k: 1 } }] });
  });
});
