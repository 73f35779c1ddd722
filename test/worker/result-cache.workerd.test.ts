// The result cache's shared layer where it exists, in workerd: entries go
// through the Cache API (caches.default), so an isolate that never computed a
// result (an empty memory layer) still finds it, with its ETag and age.
import { describe, expect, it } from 'vitest';
import { etagOf, ResultCache, type CacheWindows } from '../../worker/cache/result-cache.ts';

const ORIGIN = 'https://search.example';
/** memoryEntries 0: every lookup goes to the Cache API, as in an isolate that starts cold. */
const WINDOWS: CacheWindows = { ttlSeconds: 60, swrSeconds: 300, staleIfErrorSeconds: 86_400, memoryEntries: 0 };

describe('ResultCache over the Cache API', () => {
  it('runs where caches.default exists', () => {
    expect(navigator.userAgent).toBe('Cloudflare-Workers');
    expect((globalThis as unknown as { caches?: { default?: unknown } }).caches?.default).toBeDefined();
  });

  it('finds a result stored by another instance, fresh, with its ETag', async () => {
    const writer = new ResultCache(WINDOWS);
    const reader = new ResultCache(WINDOWS);
    const key = await writer.key(ORIGIN, { type: 'text', text: 'lighthouse', k: 2, version: 1 });
    expect(await reader.get(key)).toBeUndefined();

    const json = JSON.stringify({ query: { type: 'text', text: 'lighthouse' }, results: [{ id: 'a', score: 0.9 }], model: 'tiny' });
    const etag = await etagOf(json);
    await writer.put(key, json, etag);

    const found = await reader.get(key);
    expect(found).toMatchObject({ json, etag, freshness: 'fresh' });
    expect(found!.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(found!.ageSeconds).toBeLessThan(WINDOWS.ttlSeconds);
  });

  it('keeps searches apart: another descriptor (another index version) is another key', async () => {
    const cache = new ResultCache(WINDOWS);
    const before = await cache.key(ORIGIN, { type: 'text', text: 'tram', k: 2, version: 1 });
    const after = await cache.key(ORIGIN, { type: 'text', text: 'tram', k: 2, version: 2 });
    expect(after).not.toBe(before);
    await cache.put(before, '{"results":[]}', await etagOf('{"results":[]}'));
    expect(await cache.get(after)).toBeUndefined();
    expect(await cache.get(before)).toMatchObject({ json: '{"results":[]}' });
  });

  it('stores nothing when caching is off (TTL 0)', async () => {
    const off = new ResultCache({ ...WINDOWS, ttlSeconds: 0 });
    const on = new ResultCache(WINDOWS);
    const key = await off.key(ORIGIN, { type: 'text', text: 'uncached', k: 2, version: 1 });
    await off.put(key, '{"results":[]}', await etagOf('{"results":[]}'));
    expect(await on.get(key)).toBeUndefined();
  });
});
