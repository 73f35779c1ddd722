// The worker's runtime-independent pieces, in workerd where they run: coalescing, the
// circuit breaker, canonical forms, ETags, image input checks.
import { describe, expect, it } from 'vitest';
import { etagMatches } from '../../worker/cache/result-cache.ts';
import { CircuitBreaker } from '../../worker/embedding/circuit-breaker.ts';
import { isPrivateHost } from '../../common/net/address-policy.ts';
import { decodeBase64 } from '../../worker/embedding/image-input.ts';
import { ApiError } from '../../worker/errors.ts';
import { canonicalJson, canonicalText } from '../../worker/lib/hash.ts';
import { SingleFlight } from '../../worker/lib/single-flight.ts';
import { sleep } from '../support/timing.ts';

describe('SingleFlight', () => {
  it('shares one call among concurrent callers with the same key', async () => {
    const flight = new SingleFlight<number>(1000);
    let calls = 0;
    const work = async () => {
      calls++;
      await sleep(20);
      return 42;
    };
    expect(await Promise.all([flight.run('a', work), flight.run('a', work), flight.run('b', work)])).toEqual([42, 42, 42]);
    expect(calls).toBe(2);
    expect(flight.size).toBe(0);
    await flight.run('a', work);
    expect(calls).toBe(3);
  });

  it('passes a failure to every caller, then forgets it', async () => {
    const flight = new SingleFlight<number>(1000);
    const failing = async () => {
      await sleep(5);
      throw new Error('boom');
    };
    const results = await Promise.allSettled([flight.run('k', failing), flight.run('k', failing)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await flight.run('k', async () => 1)).toBe(1);
  });

  it('lets a follower lead a new call when the one it joined never settles', async () => {
    const flight = new SingleFlight<string>(30);
    void flight.run('k', () => new Promise<string>(() => {}));
    const started = Date.now();
    expect(await flight.run('k', async () => 'own')).toBe('own');
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(await flight.run('k', async () => 'fresh')).toBe('fresh');
  });
});

describe('CircuitBreaker', () => {
  it('opens after consecutive failures, lets one trial through after the cooldown, and closes on success', () => {
    let now = 0;
    const breaker = new CircuitBreaker(2, 100, () => now);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe('closed');
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.retryInMs).toBe(100);
    now = 100;
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false); // one trial at a time
    breaker.failure();
    expect(breaker.state).toBe('open');
    now = 250;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
  });
});

describe('canonical forms and ETags', () => {
  it('canonicalises query text and JSON', () => {
    expect(canonicalText('  Sunset\tOVER \n mountains ')).toBe('sunset over mountains');
    expect(canonicalText('Cafe\u0301')).toBe('café');
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
  });

  it('compares ETags weakly', () => {
    expect(etagMatches('W/"abc"', 'W/"abc"')).toBe(true);
    expect(etagMatches('"abc"', 'W/"abc"')).toBe(true);
    expect(etagMatches('"x", W/"abc"', 'W/"abc"')).toBe(true);
    expect(etagMatches('*', 'W/"abc"')).toBe(true);
    expect(etagMatches('W/"abd"', 'W/"abc"')).toBe(false);
    expect(etagMatches(undefined, 'W/"abc"')).toBe(false);
  });
});

describe('image input', () => {
  it('decodes standard and URL-safe base64 within the limit', () => {
    expect(Array.from(decodeBase64('AQID/w==', 10))).toEqual([1, 2, 3, 255]);
    expect(Array.from(decodeBase64('AQID_w', 10))).toEqual([1, 2, 3, 255]);
    expect(() => decodeBase64('AQID/w==', 3)).toThrow(ApiError);
    expect(() => decodeBase64('not base64!', 10)).toThrow(/base64/);
    expect(() => decodeBase64('', 10)).toThrow(ApiError);
  });

  it('recognises private and loopback hosts', () => {
    for (const host of ['localhost', 'a.localhost', '127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '[::1]', 'printer.local'])
      expect(isPrivateHost(host), host).toBe(true);
    for (const host of ['example.com', '8.8.8.8', '172.32.0.1', '100.128.0.1']) expect(isPrivateHost(host), host).toBe(false);
  });
});
