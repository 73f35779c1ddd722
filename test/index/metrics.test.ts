// The index service's Prometheus metrics and request log: what a scrape shows
// after a few real requests, and the caller's x-request-id in the log.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, startLocalTarget, type VectorizeTarget } from '../support/index-server.ts';

let target: VectorizeTarget;
const logged: Record<string, unknown>[] = [];
const INDEX = 'observed';
const ROUTES = '/client/v4/accounts/:account_id/vectorize/v2/indexes';

const post = (on: VectorizeTarget, path: string, body: string, type = 'application/json') =>
  on.raw(path, { method: 'POST', body, headers: { 'content-type': type } });
const metricsUrl = () => target.baseURL.replace(/\/client\/v4$/, '/metrics');
const scrape = async () => {
  const response = await fetch(metricsUrl(), { headers: { authorization: `Bearer ${target.token}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return response.text();
};
/** The value of one sample, e.g. sample(text, 'index_vectors{index="observed"}'). */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

beforeAll(async () => {
  // A 1-byte snapshot threshold: every write is followed by a snapshot.
  target = await startLocalTarget({
    snapshotWalBytes: 1,
    logger: pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) }),
  });
  expect((await post(target, '', JSON.stringify({ name: INDEX, config: { dimensions: 3, metric: 'cosine' } }))).status).toBe(201);
});
afterAll(async () => {
  await target?.close();
});

describe('GET /metrics', () => {
  it('counts requests by route and status, times searches, and shows each index', async () => {
    const vectors = [1, 2, 3, 4].map((i) => ({ id: `v${i}`, values: [i, 1, 0] }));
    expect((await post(target, `/${INDEX}/insert`, ndjson(vectors), 'application/x-ndjson')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await post(target, `/${INDEX}/query`, JSON.stringify({ vector: [1, 0, 0], topK: 2 }))).status).toBe(200);
    expect((await target.raw('/missing/info')).status).toBe(404);

    const text = await scrape();
    expect(sample(text, `index_requests_total{route="${ROUTES}/:name/query",status="200"}`)).toBe(3);
    expect(sample(text, `index_requests_total{route="${ROUTES}/:name/insert",status="200"}`)).toBe(1);
    expect(sample(text, `index_requests_total{route="${ROUTES}/:name/info",status="404"}`)).toBe(1);
    expect(sample(text, `index_request_seconds_count{route="${ROUTES}/:name/query"}`)).toBe(3);
    expect(sample(text, 'index_query_search_seconds_count')).toBe(3);
    expect(sample(text, `index_vectors{index="${INDEX}"}`)).toBe(4);
    expect(sample(text, `index_search_tuning{index="${INDEX}",knob="extraCandidates"}`)).toBe(32);
    expect(sample(text, `index_search_tuning{index="${INDEX}",knob="hnsw_connectivity"}`)).toBe(24);
    expect(sample(text, 'index_process_resident_memory_bytes')).toBeGreaterThan(0);

    // The insert crossed the snapshot threshold: a snapshot ran (in the background) and emptied the log.
    const snapshotted = async () => {
      for (let i = 0; i < 50; i++) {
        const t = await scrape();
        if (sample(t, `index_snapshot_duration_seconds{index="${INDEX}"}`) !== undefined) return t;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('no snapshot in /metrics');
    };
    const after = await snapshotted();
    expect(sample(after, `index_snapshot_duration_seconds{index="${INDEX}"}`)).toBeGreaterThan(0);
    expect(sample(after, `index_snapshot_age_seconds{index="${INDEX}"}`)).toBeLessThan(30);
    expect(sample(after, `index_wal_bytes{index="${INDEX}"}`)).toBe(0);
  });

  it('shows a write-ahead log that has not been snapshotted yet', async () => {
    const unsnapshotted = await startLocalTarget();
    try {
      expect((await post(unsnapshotted, '', JSON.stringify({ name: 'w', config: { dimensions: 2, metric: 'cosine' } }))).status).toBe(201);
      expect((await post(unsnapshotted, '/w/upsert', ndjson([{ id: 'a', values: [1, 0] }]), 'application/x-ndjson')).status).toBe(200);
      const text = await (await fetch(unsnapshotted.baseURL.replace(/\/client\/v4$/, '/metrics'), { headers: { authorization: `Bearer ${unsnapshotted.token}` } })).text();
      expect(sample(text, 'index_wal_bytes{index="w"}')).toBeGreaterThan(0);
      expect(sample(text, 'index_snapshot_duration_seconds{index="w"}')).toBeUndefined();
    } finally {
      await unsnapshotted.close();
    }
  });

  it('needs the service token like every other route', async () => {
    const response = await fetch(metricsUrl());
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ success: false, errors: [{ code: 10000 }] });
  });
});

describe('the request log', () => {
  it("logs the caller's x-request-id, and only a well-formed one", async () => {
    await target.raw(`/${INDEX}/info`, { headers: { 'x-request-id': 'search-1234.abc' } });
    await target.raw(`/${INDEX}/info`, { headers: { 'x-request-id': 'bad id\twith "quotes"' } });
    const requests = logged.filter((l) => l.msg === 'request' && l.path === `/client/v4/accounts/local-account/vectorize/v2/indexes/${INDEX}/info`);
    expect(requests.at(-2)).toMatchObject({ requestId: 'search-1234.abc', status: 200, method: 'GET' });
    expect(requests.at(-1)).not.toHaveProperty('requestId');
  });
});
